import json

import pytest

from harness.pipeline import PipelineError, load_pipeline
from tests.unit.pipeline.builders import definition, shift_left_table


def _shift_left(root, *, with_definitions=True):
    pipelines = root / "pipelines"
    tables = {"src_a": ("source", ("raw_a",)), "int_b": ("intermediate", ("src_a",)),
              "fct_c": ("fact", ("int_b",)), "dim_d": ("dimension", ("src_a",)),
              "v_e": ("view", ("fct_c", "dim_d"))}
    for name, (layer, parents) in tables.items():
        shift_left_table(pipelines, name, layer=layer, parents=parents,
                         definition=definition(name, layer, parents) if with_definitions
                         else None)
    shift_left_table(pipelines, "raw_a", layer="source")
    return pipelines


def test_shift_left_layout(tmp_path):
    _shift_left(tmp_path)
    model = load_pipeline(tmp_path)
    assert model.warnings == []
    assert {n: t.layer for n, t in model.tables.items()} == {
        "raw_a": "external", "src_a": "source", "int_b": "intermediate", "fct_c": "fact",
        "dim_d": "dimension", "v_e": "view"}
    assert model.tables["v_e"].parents == ("dim_d", "fct_c")
    assert model.tables["int_b"].product == "p1"
    assert model.tables["int_b"].dml_path.name == "dml.int_b.sql"
    assert model.tables["raw_a"].ddl.startswith("CREATE TABLE")


def test_pipelines_folder_itself_and_type_from_definition(tmp_path):
    pipelines = _shift_left(tmp_path, with_definitions=False)
    shift_left_table(pipelines, "int_f", layer="intermediate", parents=("src_a",),
                     definition={"table_name": "int_f", "type": "fact", "parents": []})
    model = load_pipeline(pipelines)
    assert model.tables["int_f"].layer == "fact"
    assert len(model.warnings) == 1
    assert "pipeline_definition.json: parents [] disagree" in model.warnings[0]
    assert "['src_a']" in model.warnings[0]


def test_inventory_locates_files_and_flags_unlisted_folders(tmp_path):
    pipelines = _shift_left(tmp_path)
    moved = tmp_path / "elsewhere" / "int_g"
    (moved / "sql-scripts").mkdir(parents=True)
    (moved / "sql-scripts" / "g.sql").write_text("INSERT INTO int_g SELECT * FROM int_b")
    inventory = {"int_g": {"table_name": "int_g", "type": "intermediate",
                           "table_folder_name": "elsewhere/int_g",
                           "dml_ref": "elsewhere/int_g/sql-scripts/g.sql"},
                 "src_a": {"table_folder_name": "pipelines/sources/p1/src_a",
                           "dml_ref": "pipelines/sources/p1/src_a/sql-scripts/dml.src_a.sql"}}
    (pipelines / "inventory.json").write_text(json.dumps(inventory))
    model = load_pipeline(tmp_path)
    assert model.tables["int_g"].parents == ("int_b",)
    assert model.tables["int_g"].layer == "intermediate"
    unlisted = [w for w in model.warnings if "not listed in" in w]
    assert len(unlisted) == 5  # raw_a, int_b, fct_c, dim_d, v_e


@pytest.mark.parametrize(("text", "message"), [
    ('{"table_name": "int_b", ', r"not valid JSON: Expecting property name .* at line 1 "
                                r"column 25 \(char 24\)"),
    ('{"type": "intermediate"}', r'has no "table_name"'),
])
def test_malformed_pipeline_definition(tmp_path, text, message):
    shift_left_table(tmp_path / "pipelines", "int_b", layer="intermediate",
                     parents=("src_a",), definition=text)
    with pytest.raises(PipelineError, match=message) as caught:
        load_pipeline(tmp_path)
    assert "int_b/pipeline_definition.json" in str(caught.value)
    assert "build-metadata" in str(caught.value)


def test_plain_folder_with_several_statements_per_file(tmp_path):
    (tmp_path / "nested").mkdir()
    (tmp_path / "tables.sql").write_text(
        "CREATE TABLE src_a (id STRING);\nCREATE TABLE fct_b (id STRING);\n"
        "CREATE TABLE vw_c (id STRING);\n")
    (tmp_path / "nested" / "jobs.sql").write_text(
        "SET 'pipeline.name' = 'x;y';\n"
        "EXECUTE STATEMENT SET BEGIN\n"
        "INSERT INTO src_a SELECT * FROM raw_a;\n"
        "INSERT INTO fct_b SELECT * FROM src_a;\n"
        "INSERT INTO vw_c SELECT * FROM fct_b;\n"
        "INSERT INTO other SELECT * FROM fct_b;\nEND;")
    model = load_pipeline(tmp_path)
    assert {n: t.layer for n, t in model.tables.items()} == {
        "raw_a": "external", "src_a": "source", "fct_b": "fact", "vw_c": "view",
        "other": "intermediate"}
    assert model.tables["fct_b"].ddl == "CREATE TABLE fct_b (id STRING)"
    assert model.tables["fct_b"].dml == "INSERT INTO fct_b SELECT * FROM src_a"


def test_unparsable_sql_warns_with_file_and_line(tmp_path):
    (tmp_path / "a.sql").write_text(
        "INSERT INTO int_a SELECT * FROM src_a;\n\n"
        "INSERT INTO fct_b\nSELECT x,\nFROM int_a JOIN src_c c ON c.id = = 1;\n")
    model = load_pipeline(tmp_path)
    assert model.tables["fct_b"].parents == ("int_a", "src_c")
    [warning] = model.warnings
    assert warning.startswith(f"{tmp_path / 'a.sql'}:5: could not parse (")
    assert warning.endswith("); table references extracted by pattern")


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(PipelineError, match="does not exist"):
        load_pipeline(tmp_path / "nope")
    with pytest.raises(PipelineError, match=r"no \.sql files under"):
        load_pipeline(tmp_path)


def test_a_seeds_folder_and_type_seed_are_sources(tmp_path):
    pipelines = _shift_left(tmp_path)
    seed = pipelines / "seeds" / "raw_z"
    (seed / "sql-scripts").mkdir(parents=True)
    (seed / "sql-scripts" / "ddl.raw_z.sql").write_text(
        "CREATE TABLE raw_z (id STRING, PRIMARY KEY (id) NOT ENFORCED)")
    (seed / "sql-scripts" / "dml.raw_z.sql").write_text("INSERT INTO raw_z VALUES ('a');")
    (seed / "pipeline_definition.json").write_text(json.dumps(
        {"table_name": "raw_z", "type": "seed", "parents": [], "children": []}))
    model = load_pipeline(pipelines)
    assert model.tables["raw_z"].layer == "source"
    assert not [w for w in model.warnings if "unknown type" in w], model.warnings
