import pytest

from harness.pipeline import PipelineError, load_pipeline, next_version, plan_change
from tests.unit.pipeline.builders import DIAMOND, plain_project


@pytest.mark.parametrize(("name", "expected"), [
    ("x", "x_v2"), ("x_v2", "x_v3"), ("x_v10", "x_v11"), ("int_v", "int_v_v2"),
    ("fct_v2x", "fct_v2x_v2")])
def test_next_version(name, expected):
    assert next_version(name) == expected


def _redeployed(plan):
    return [(r.table, r.new_name, r.reason) for r in plan.redeploy]


def test_change_to_a_source_redeploys_everything_downstream(tmp_path):
    plan = plan_change(load_pipeline(plain_project(tmp_path, DIAMOND)), ["src_a"])
    assert _redeployed(plan) == [
        ("src_a", "src_a_v2", "changed"),
        ("int_b", "int_b_v2", "reads src_a (redeployed)"),
        ("int_c", "int_c_v2", "reads src_a (redeployed)"),
        ("fct_d", "fct_d_v2", "reads int_b, int_c (redeployed)")]
    assert plan.unchanged == []
    assert plan.external == ["raw_a"]
    fct = plan.redeploy[-1]
    assert fct.parents == ("int_b_v2", "int_c_v2")
    assert fct.dml == ("INSERT INTO fct_d_v2\nSELECT p0.id, p0.val\nFROM int_b_v2 p0"
                       "\nJOIN int_c_v2 p1 ON p0.id = p1.id")
    assert fct.ddl.startswith("CREATE TABLE IF NOT EXISTS fct_d_v2 (")


def test_change_to_one_branch_of_a_diamond(tmp_path):
    model = load_pipeline(plain_project(tmp_path, DIAMOND))
    plan = plan_change(model, ["int_b"])
    assert _redeployed(plan) == [("int_b", "int_b_v2", "changed"),
                                 ("fct_d", "fct_d_v2", "reads int_b (redeployed)")]
    assert plan.unchanged == ["int_c", "src_a"]
    fct = plan.redeploy[1]
    assert "FROM int_b_v2 p0\nJOIN int_c p1" in fct.dml  # the kept parent keeps its name
    assert fct.parents == ("int_b_v2", "int_c")
    assert model.tables["int_c"].dml.startswith("INSERT INTO int_c\n")  # model untouched


def test_change_to_a_leaf_redeploys_only_itself(tmp_path):
    chain = {"src_a": ("raw_a",), "int_b": ("src_a",), "int_c": ("int_b",), "fct_d": ("int_c",)}
    plan = plan_change(load_pipeline(plain_project(tmp_path, chain)), ["fct_d"])
    assert _redeployed(plan) == [("fct_d", "fct_d_v2", "changed")]
    assert plan.unchanged == ["int_b", "int_c", "src_a"]


def test_multi_level_chain_and_two_changes(tmp_path):
    chain = {"src_a": ("raw_a",), "int_b": ("src_a",), "int_c": ("int_b",), "fct_d": ("int_c",)}
    plan = plan_change(load_pipeline(plain_project(tmp_path, chain)), ["int_c", "int_b"])
    assert _redeployed(plan) == [("int_b", "int_b_v2", "changed"),
                                 ("int_c", "int_c_v2", "changed"),
                                 ("fct_d", "fct_d_v2", "reads int_c (redeployed)")]
    assert "FROM int_b_v2 p0" in plan.redeploy[1].dml


def test_view_on_two_facts(tmp_path):
    edges = {"src_a": ("raw_a",), "fct_b": ("src_a",), "fct_c": ("src_a",),
             "v_d": ("fct_b", "fct_c")}
    plan = plan_change(load_pipeline(plain_project(tmp_path, edges)), ["fct_c"])
    assert _redeployed(plan) == [("fct_c", "fct_c_v2", "changed"),
                                 ("v_d", "v_d_v2", "reads fct_c (redeployed)")]
    assert plan.redeploy[1].layer == "view"
    assert plan.to_json() == {
        "redeploy": [
            {"table": "fct_c", "new_name": "fct_c_v2", "reason": "changed", "layer": "fact"},
            {"table": "v_d", "new_name": "v_d_v2", "reason": "reads fct_c (redeployed)",
             "layer": "view"}],
        "unchanged": ["fct_b", "src_a"],
        "external": ["raw_a"],
        "edges": [["raw_a", "src_a"], ["src_a", "fct_b"], ["src_a", "fct_c"],
                  ["fct_b", "v_d"], ["fct_c", "v_d"]]}
    assert plan.render_text().splitlines() == [
        "EXTERNAL  raw_a (source topic, never redeployed)",
        "KEEP      src_a (running, untouched)",
        "KEEP      fct_b (running, untouched)",
        "REDEPLOY  fct_c -> fct_c_v2 (changed)",
        "REDEPLOY  v_d -> v_d_v2     (reads fct_c_v2)",
        "2 to redeploy, 2 kept, 1 external"]


def test_rename_with_backticks_aliases_and_strings(tmp_path):
    (tmp_path / "p.sql").write_text(
        "CREATE TABLE `src_a` (id STRING);\n"
        "INSERT INTO `src_a` SELECT id FROM raw_a;\n"
        "INSERT INTO src_ab SELECT id FROM raw_a;\n"
        "INSERT INTO fct_b\nSELECT src_a.id, 'src_a' AS origin -- from src_a\n"
        "FROM `src_a` JOIN src_ab AS ab ON src_a.id = ab.id;\n")
    plan = plan_change(load_pipeline(tmp_path), ["src_a"])
    src, fct = plan.redeploy
    assert src.ddl == "CREATE TABLE `src_a_v2` (id STRING)"
    assert src.dml == "INSERT INTO `src_a_v2` SELECT id FROM raw_a"
    assert fct.dml == ("INSERT INTO fct_b_v2\nSELECT src_a_v2.id, 'src_a' AS origin -- from src_a\n"
                       "FROM `src_a_v2` JOIN src_ab AS ab ON src_a_v2.id = ab.id")
    assert plan.unchanged == ["src_ab"]


def test_unknown_changed_table(tmp_path):
    model = load_pipeline(plain_project(tmp_path, DIAMOND))
    with pytest.raises(PipelineError, match=r"no table 'fct_dd'.*did you mean fct_d\?"):
        plan_change(model, ["fct_dd"])


def test_changed_external_table(tmp_path):
    model = load_pipeline(plain_project(tmp_path, DIAMOND))
    with pytest.raises(PipelineError, match=r"'raw_a' is an external table.*never redeployed"
                                            r".*change the statement that reads it instead "
                                            r"\(src_a\)"):
        plan_change(model, ["raw_a"])


def test_next_version_already_taken(tmp_path):
    model = load_pipeline(plain_project(tmp_path, {"int_b": ("raw",), "int_b_v2": ("raw",)}))
    with pytest.raises(PipelineError, match="already has a table 'int_b_v2'"):
        plan_change(model, ["int_b"])
