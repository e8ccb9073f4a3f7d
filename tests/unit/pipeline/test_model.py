import pytest

from harness.pipeline import PipelineError, PipelineModel, TableStatement, load_pipeline
from tests.unit.pipeline.builders import DIAMOND, plain_project


def test_diamond_relations_and_order(tmp_path):
    model = load_pipeline(plain_project(tmp_path, DIAMOND))
    assert model.topological_order() == ["raw_a", "src_a", "int_b", "int_c", "fct_d"]
    assert model.children("src_a") == ["int_b", "int_c"]
    assert model.descendants("src_a") == ["int_b", "int_c", "fct_d"]
    assert model.descendants("fct_d") == []
    assert model.tables["fct_d"].parents == ("int_b", "int_c")
    assert model.external == ["raw_a"]
    assert model.tables["raw_a"].layer == "external"


def test_order_is_by_depth_then_name_whatever_the_input_order():
    tables = [TableStatement("b2", "intermediate", dml="x", parents=("a1",)),
              TableStatement("c3", "fact", dml="x", parents=("b2",)),
              TableStatement("a1", "source", dml="x", parents=("raw",)),
              TableStatement("a0", "source", dml="x", parents=("raw",))]
    for ordering in (tables, tables[::-1]):
        assert PipelineModel(ordering).topological_order() == ["raw", "a0", "a1", "b2", "c3"]


def test_ddl_of_an_external_table_is_kept(tmp_path):
    model = load_pipeline(plain_project(tmp_path, {"src_a": ("raw_a",)}, externals=("raw_a",)))
    raw = model.tables["raw_a"]
    assert raw.layer == "external"
    assert raw.ddl.startswith("CREATE TABLE IF NOT EXISTS raw_a")
    assert raw.dml == ""


def test_cycle_is_named(tmp_path):
    with pytest.raises(PipelineError, match=r"cycle: int_a -> int_b -> int_a") as caught:
        load_pipeline(plain_project(tmp_path, {"int_a": ("int_b",), "int_b": ("int_a",)}))
    assert "int_a.sql" in str(caught.value)


def test_two_writers_of_one_table_name_both_files(tmp_path):
    plain_project(tmp_path, {"int_a": ("src_x",)})
    (tmp_path / "other.sql").write_text("INSERT INTO int_a SELECT * FROM src_y;")
    with pytest.raises(PipelineError, match="two DML statements for table 'int_a'") as caught:
        load_pipeline(tmp_path)
    assert "int_a.sql" in str(caught.value) and "other.sql" in str(caught.value)


def test_unknown_table_lists_close_matches(tmp_path):
    model = load_pipeline(plain_project(tmp_path, DIAMOND))
    with pytest.raises(PipelineError, match="did you mean int_b, int_c"):
        model.children("int_")
