"""Shapes found in third-party shift_left projects: seeds, statement sets, stubs, bad widths."""

from pathlib import Path

import pytest

from harness.pipeline import load_pipeline
from harness.pipeline.inserts import InsertColumnsError, require_matching_widths
from harness.pipeline.lineage import LineageError, ProductLineage
from harness.pipeline.model import PipelineModel, TableStatement

ROOT = Path("/repo/pipelines/sources/p1")


def table(name, ddl="", dml="", parents=(), layer="source"):
    folder = ROOT / name / "sql-scripts"
    return TableStatement(name, layer, ddl=ddl, dml=dml, parents=tuple(parents),
                          ddl_path=folder / f"ddl.{name}.sql" if ddl else None,
                          dml_path=folder / f"dml.{name}.sql" if dml else None)


def test_a_table_filled_by_literal_values_is_a_seed_not_a_parse_failure():
    found = ProductLineage(PipelineModel([table(
        "seed_colors", "CREATE TABLE seed_colors (id STRING, label STRING)",
        "INSERT INTO seed_colors VALUES ('1', 'red'), ('2', 'blue');")]))
    assert found.statement("seed_colors").error  # nothing to trace
    assert any("literal VALUES (a seed)" in w for w in found.warnings)
    assert not any("cannot parse" in w for w in found.warnings)


def test_an_unfinished_template_reader_is_named_with_its_parse_error_and_the_fix():
    stub = "INSERT INTO src_b\nSELECT\n-- columns go here\nFROM raw_b\nWHERE -- condition\n"
    found = ProductLineage(PipelineModel([table("src_b", "CREATE TABLE src_b (id STRING)",
                                                stub, ["raw_b"])]))
    with pytest.raises(LineageError) as raised:
        found.columns("raw_b")
    message = str(raised.value)
    assert message.startswith(f"{ROOT / 'src_b' / 'sql-scripts' / 'dml.src_b.sql'}:")
    assert "sqlglot cannot parse the DML of src_b" in message
    assert "fix that statement" in message and "ddl.raw_b.sql" in message


@pytest.mark.parametrize(("select", "detail"), [
    ("SELECT id, amount, amount * 2 AS doubled FROM raw_c", "not in the DDL: doubled"),
    ("SELECT id FROM raw_c", "not filled: amount"),
])
def test_an_insert_wider_or_narrower_than_its_ddl_is_refused(select, detail):
    model = PipelineModel([table("src_c", "CREATE TABLE src_c (id STRING, amount INT)",
                                 f"INSERT INTO src_c\n{select};", ["raw_c"])])
    with pytest.raises(InsertColumnsError) as raised:
        require_matching_widths(ProductLineage(model), ["src_c"])
    message = str(raised.value)
    assert message.startswith(f"{ROOT / 'src_c' / 'sql-scripts' / 'dml.src_c.sql'}:1: ")
    assert detail in message and "INSERT INTO src_c (...)" in message


@pytest.mark.parametrize("dml", [
    "INSERT INTO src_c SELECT * FROM raw_c;",
    "INSERT INTO src_c (id) SELECT id FROM raw_c;",
    "INSERT INTO src_c SELECT id, amount FROM raw_c;",
])
def test_stars_column_lists_and_matching_widths_pass(dml):
    model = PipelineModel([table("src_c", "CREATE TABLE src_c (id STRING, amount INT)", dml,
                                 ["raw_c"])])
    require_matching_widths(ProductLineage(model), ["src_c"])


def test_a_writable_metadata_column_is_not_counted_against_the_select():
    ddl = ("CREATE TABLE src_c (id STRING, amount INT, "
           "ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp')")
    model = PipelineModel([table("src_c", ddl, "INSERT INTO src_c SELECT id, amount, ts "
                                 "FROM raw_c;", ["raw_c"])])
    require_matching_widths(ProductLineage(model), ["src_c"])


def test_a_statement_set_folder_gives_one_table_per_insert(tmp_path):
    scripts = tmp_path / "pipelines" / "sources" / "shop" / "src_split" / "sql-scripts"
    scripts.mkdir(parents=True)
    for name in ("src_big", "src_small"):
        (scripts / f"ddl.{name}.sql").write_text(f"CREATE TABLE {name} (id STRING, n INT);")
    (scripts / "dml.src_split.sql").write_text(
        "-- fan out\nEXECUTE STATEMENT SET\nBEGIN\n"
        "INSERT INTO src_big SELECT id, n FROM raw_orders WHERE n >= 10;\n"
        "INSERT INTO src_small\nSELECT id, n FROM raw_orders WHERE n < 10;\nEND;\n")
    model = load_pipeline(tmp_path)
    assert model.tables["src_big"].parents == ("raw_orders",)
    assert model.tables["src_small"].parents == ("raw_orders",)
    assert model.tables["raw_orders"].is_external
    assert model.tables["src_small"].ddl.startswith("CREATE TABLE src_small")
    assert "src_big" not in model.tables["src_small"].dml
    assert not any("several" in w for w in model.warnings)
    # the blank lines before each INSERT keep the file's line numbers
    parsed = ProductLineage(model).statement("src_small")
    assert parsed is not None and parsed.line == 5
