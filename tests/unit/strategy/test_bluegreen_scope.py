"""prepare() looks only at what a change touches; raw topics read for $rowtime get it."""

import pytest

from harness.strategy.bluegreen_setup import BlueGreenSpec, prepare
from tests.unit.strategy.gitrepo import git, main_and_release

SRC_DDL = "CREATE TABLE src_{n} (id STRING, v INT, PRIMARY KEY (id) NOT ENFORCED);"
SRC_DML = "INSERT INTO src_{n}\nSELECT id, CAST(v AS INT) FROM raw_{n} WHERE id IS NOT NULL;"
INT_DDL = "CREATE TABLE int_a (id STRING, v INT, PRIMARY KEY (id) NOT ENFORCED);"
INT_DML = "INSERT INTO int_a\nSELECT id, v FROM src_a;"
STUB_DML = "INSERT INTO src_z\nSELECT\n-- columns\nFROM raw_z\nWHERE -- condition\n"


def write(pipelines, layer, name, ddl, dml):
    scripts = pipelines / layer / "p" / name / "sql-scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / f"ddl.{name}.sql").write_text(ddl)
    (scripts / f"dml.{name}.sql").write_text(dml)
    return scripts


@pytest.fixture
def repo(tmp_path):
    pipelines = tmp_path / "repo" / "pipelines"
    write(pipelines, "sources", "src_a", SRC_DDL.format(n="a"), SRC_DML.format(n="a"))
    scripts = write(pipelines, "intermediates", "int_a", INT_DDL, INT_DML)
    # an unrelated, unfinished template in another product's folder
    write(pipelines, "sources", "src_z", "CREATE TABLE src_z (id STRING);", STUB_DML)
    main_and_release(pipelines.parent, lambda: (scripts / "dml.int_a.sql").write_text(
        INT_DML.replace("id, v", "id, v + 1")))
    return pipelines


def test_a_table_neither_upstream_nor_downstream_is_left_out_with_a_warning(repo):
    prepared = prepare(BlueGreenSpec(pipelines=repo, from_ref="main", to_ref="release"))
    assert [r.table for r in prepared.plan.redeploy] == ["int_a"]
    assert "src_z" not in prepared.v1.tables and "raw_z" not in prepared.v1.tables
    assert [s.table for s in prepared.data.sources] == ["raw_a"]
    assert any("left out of the run" in w and "src_z" in w for w in prepared.warnings)


def test_a_change_reading_the_stub_is_refused_naming_the_stub(repo):
    git(repo.parent, "checkout", "-q", "-b", "reads_stub", "main")
    scripts = repo / "intermediates" / "p" / "int_a" / "sql-scripts"
    (scripts / "dml.int_a.sql").write_text(
        "INSERT INTO int_a\nSELECT a.id, a.v FROM src_a a JOIN src_z z ON a.id = z.id;")
    git(repo.parent, "commit", "-q", "-am", "join")
    with pytest.raises(Exception, match=r"dml\.src_z\.sql:\d+: sqlglot cannot parse"):
        prepare(BlueGreenSpec(pipelines=repo, from_ref="main", to_ref="reads_stub"))


def test_rowtime_of_a_raw_topic_is_declared_as_the_kafka_timestamp(repo):
    git(repo.parent, "checkout", "-q", "-b", "rowtime", "main")
    scripts = repo / "sources" / "p" / "src_a" / "sql-scripts"
    (scripts / "dml.src_a.sql").write_text(
        "INSERT INTO src_a\nSELECT id, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id "
        "ORDER BY `$rowtime` DESC) AS rn FROM (SELECT id, CAST(v AS INT) AS v, `$rowtime` "
        "FROM raw_a)) WHERE rn = 1;")
    git(repo.parent, "commit", "-q", "-am", "dedup")
    git(repo.parent, "checkout", "-q", "-b", "rowtime2")
    (scripts / "dml.src_a.sql").write_text((scripts / "dml.src_a.sql").read_text()
                                           .replace("AS v,", "AS v ,"))
    (repo / "intermediates" / "p" / "int_a" / "sql-scripts" / "dml.int_a.sql").write_text(
        INT_DML.replace("id, v", "id, v * 2"))
    git(repo.parent, "commit", "-q", "-am", "v2")
    prepared = prepare(BlueGreenSpec(pipelines=repo, from_ref="rowtime", to_ref="rowtime2"))
    assert "`$rowtime` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'" in \
        prepared.extra_ddl["raw_a"]
    source = prepared.data.source("raw_a")
    assert "$rowtime" not in {c.name for c in source.columns}
    assert "$rowtime" not in source.inferred
