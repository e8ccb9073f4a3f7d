"""The plan as a graph: node kinds, levels, DOT quoting, and the report's drawing."""

from harness.pipeline.plan_graph import levels, nodes, to_dot
from harness.report.plan_svg import plan_from_timeline, plan_svg

PLAN = {"redeploy": [{"table": "int_c", "new_name": "int_c_v2", "reason": "changed"},
                     {"table": "fct_d", "new_name": "fct_d_v2", "reason": "reads int_c"}],
        "unchanged": ["int_b", "src_a"], "external": ["raw_a"],
        "edges": [["raw_a", "src_a"], ["src_a", "int_b"], ["src_a", "int_c"],
                  ["int_b", "fct_d"], ["int_c", "fct_d"]]}


def test_each_table_has_the_kind_the_change_gives_it_and_a_level():
    kinds = {name: node["kind"] for name, node in nodes(PLAN).items()}
    assert kinds == {"raw_a": "external", "src_a": "green", "int_b": "green",
                     "int_c": "changed", "fct_d": "redeployed"}
    assert levels(PLAN) == {"raw_a": 0, "src_a": 1, "int_b": 2, "int_c": 2, "fct_d": 3}


def test_dot_quotes_names_it_cannot_take_bare():
    plan = {"unchanged": ['odd"name'], "external": ["db.raw"], "edges": [["db.raw", 'odd"name']]}
    assert '"db.raw" -> "odd\\"name";' in to_dot(plan)


def test_the_report_draws_every_table_and_read_from_the_plan_event():
    timeline = [{"kind": "scenario.start"}, {"kind": "bluegreen.plan", **PLAN}]
    svg = plan_svg(plan_from_timeline(timeline))
    assert svg.count("<rect") == 5 + 4  # five tables, four legend swatches
    assert svg.count('marker-end="url(#arrow)"') == 5  # one arrow per read
    assert "int_c → int_c_v2" in svg and "<title>fct_d: redeployed</title>" in svg
    assert plan_from_timeline([{"kind": "scenario.start"}]) is None
    assert plan_svg({"edges": []}) == ""
