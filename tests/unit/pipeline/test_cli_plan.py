import json

from harness.cli import main
from tests.unit.pipeline.builders import DIAMOND, plain_project


def test_plan_json(tmp_path, capsys):
    (plain_project(tmp_path, DIAMOND) / "broken.sql").write_text(
        "INSERT INTO int_z SELECT x,\nFROM src_a WHERE a = = 1")
    assert main(["plan", str(tmp_path), "--changed", "int_c", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "redeploy": [
            {"table": "int_c", "new_name": "int_c_v2", "reason": "changed",
             "layer": "intermediate"},
            {"table": "fct_d", "new_name": "fct_d_v2", "reason": "reads int_c (redeployed)",
             "layer": "fact"}],
        "unchanged": ["int_b", "int_z", "src_a"],
        "external": ["raw_a"],
        "edges": [["raw_a", "src_a"], ["src_a", "int_b"], ["src_a", "int_c"],
                  ["src_a", "int_z"], ["int_b", "fct_d"], ["int_c", "fct_d"]]}
    assert "cutover: warning: " in err and "broken.sql:2: could not parse" in err


def test_plan_text(tmp_path, capsys):
    assert main(["plan", str(plain_project(tmp_path, DIAMOND)), "--changed", "fct_d"]) == 0
    assert "REDEPLOY  fct_d -> fct_d_v2 (changed)" in capsys.readouterr().out


def test_plan_errors_exit_2(tmp_path, capsys):
    plain_project(tmp_path, DIAMOND)
    assert main(["plan", str(tmp_path), "--changed", "raw_a"]) == 2
    assert capsys.readouterr().err.startswith("cutover: error: 'raw_a' is an external table")
    assert main(["plan", str(tmp_path), "--from", "HEAD"]) == 2
    assert "--from REF --to REF" in capsys.readouterr().err


def test_plan_as_a_graph_colours_each_table_by_what_the_change_does(tmp_path, capsys):
    plain_project(tmp_path, DIAMOND)
    assert main(["plan", str(tmp_path), "--changed", "int_c", "--format", "mermaid"]) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("flowchart LR")
    assert 'n_int_c["int_c → int_c_v2"]:::changed' in mermaid
    assert 'n_fct_d["fct_d → fct_d_v2"]:::redeployed' in mermaid
    assert 'n_int_b["int_b"]:::green' in mermaid and 'n_raw_a["raw_a"]:::external' in mermaid
    assert "n_int_b --> n_fct_d" in mermaid
    assert main(["plan", str(tmp_path), "--changed", "int_c", "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph plan {") and dot.rstrip().endswith("}")
    assert '"int_c" [label="int_c → int_c_v2"' in dot and '"src_a" -> "int_c";' in dot
