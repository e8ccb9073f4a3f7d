"""A product cutover has never seen: a plain folder, a raw topic without DDL, vendor SQL."""

import pytest

from harness.cli import main
from harness.errors import CutoverError
from harness.strategy.bluegreen_setup import BlueGreenSpec, prepare
from tests.unit.strategy.gitrepo import git, main_and_release

ORDERS_DDL = """CREATE TABLE src_orders (
  order_id STRING, customer_id STRING, amount DOUBLE, PRIMARY KEY (order_id) NOT ENFORCED
) WITH ('changelog.mode' = 'upsert', 'key.format' = 'json-registry',
        'value.format' = 'json-registry');
"""
ORDERS_DML = """INSERT INTO src_orders
SELECT order_id, customer_id, CAST(amount AS DOUBLE) FROM raw_orders WHERE amount > 0;
"""


@pytest.fixture
def repo(tmp_path):
    folder = tmp_path / "repo" / "pipelines"
    folder.mkdir(parents=True)
    (folder / "ddl.src_orders.sql").write_text(ORDERS_DDL)
    (folder / "dml.src_orders.sql").write_text(ORDERS_DML)
    main_and_release(folder.parent, lambda: (folder / "dml.src_orders.sql").write_text(
        ORDERS_DML.replace("> 0", ">= 0")))
    return folder


def test_a_raw_topic_without_ddl_gets_inferred_columns_and_a_generated_table(repo):
    prepared = prepare(BlueGreenSpec(pipelines=repo, from_ref="main", to_ref="release"))
    source = prepared.data.source("raw_orders")
    assert {c.name for c in source.columns} == {"order_id", "customer_id", "amount"}
    assert source.inferred and source.key == "order_id"
    assert "CREATE TABLE `raw_orders`" in prepared.extra_ddl["raw_orders"]
    assert "inferred" in prepared.data.render_text()


def test_select_star_from_a_raw_topic_without_ddl_exits_2_naming_the_file(repo, capsys):
    git(repo.parent, "checkout", "-q", "-b", "star", "main")
    (repo / "dml.src_orders.sql").write_text("INSERT INTO src_orders SELECT * FROM raw_orders;")
    git(repo.parent, "commit", "-q", "-am", "star")
    code = main(["verify", "bluegreen", str(repo), "--from", "star", "--to", "release"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "dml.src_orders.sql" in err and "ddl.raw_orders.sql" in err


def test_a_v2_reading_a_source_v1_lacks_is_refused_before_deploying(repo):
    git(repo.parent, "checkout", "-q", "release")
    (repo / "dml.src_orders.sql").write_text(
        "INSERT INTO src_orders SELECT order_id, customer_id, amount FROM raw_orders_eu;")
    git(repo.parent, "commit", "-q", "-am", "reads a new topic")
    with pytest.raises(CutoverError, match=r"raw_orders_eu.*Rebase release on main"):
        prepare(BlueGreenSpec(pipelines=repo, from_ref="main", to_ref="release"))
