from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.report import render_report, write_report
from harness.report.html import evidence_html, slug
from harness.report.svg import (
    HLine,
    LineChart,
    Marker,
    Series,
    VLine,
    format_tick,
    nice_step,
    nice_ticks,
)

from .test_series import ROLLBACK, SAMPLES, T0

HOSTILE = "<script>alert('x')</script>"


def scenario(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "nodeid": "scenarios/test_canary_data_tier.py::test_faulty_canary_is_rolled_back",
        "outcome": "passed", "duration_s": 37.2, "failure": None,
        "bundle": "scenarios/faulty", "checks": [], "timeline": []}
    return {**base, **overrides}


def run(*scenarios: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": "20261122-031500-1234", "started": T0, "finished": T0 + 300,
            "command": "pytest scenarios", "results_dir": "/abs/path",
            "scenarios": list(scenarios)}


def plots(html: str) -> list[str]:
    return re.findall(r'<svg [^>]*class="plot" data-plot="([^"]+)"', html)


FAILED_CHECK = {"name": "no_duplicates(fct_x_v2)", "ok": False,
                "summary": "2 duplicated keys among 40 rows",
                "evidence": {"examples": [["k1", 2], ["k2", 3]], "missing": ["id1", "id2"],
                             "rows": 40}}


# --- svg ------------------------------------------------------------------------------


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0, 37.2, [0, 10, 20, 30, 40]),
    (0, 100, [0, 20, 40, 60, 80, 100]),
    (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (-3, 12, [-5, 0, 5, 10, 15]),
    (5, 5, [4.4, 4.6, 4.8, 5.0, 5.2, 5.4, 5.6]),
    (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
])
def test_ticks_are_on_a_1_2_5_grid(lo: float, hi: float, expected: list[float]) -> None:
    assert nice_ticks(lo, hi) == pytest.approx(expected)


def test_tick_steps_and_labels() -> None:
    assert [nice_step(s) for s in (6, 12, 30, 0.03, 4500)] == [1, 2, 5, 0.005, 1000]
    assert nice_step(0) == nice_step(float("nan")) == 1.0
    assert format_tick(12000, 2000) == "12,000"
    assert format_tick(0.30000000000000004, 0.1) == "0.3"
    assert format_tick(-0.0, 1) == "0"


def test_chart_splits_at_gaps_and_draws_steps() -> None:
    chart = LineChart("t <x>", "s", "%", plot_id="p",
                      series=[Series("a&b", [(0, 1), (1, None), (2, 3), (3, 4)], "#f00"),
                              Series("w", [(0, 0), (5, 10)], "#00f", step=True)],
                      hlines=[HLine(2, "limit <2>", "#0f0")],
                      vlines=[VLine(1, "fault on", "#808")],
                      markers=[Marker(2, 3, "#f00", "fail <why>")])
    svg = chart.render()
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'class="plot" data-plot="p"' in svg and 'viewBox="0 0 960 320"' in svg
    assert "<title>t &lt;x&gt;</title>" in svg and "a&amp;b" in svg
    assert "limit &lt;2&gt;" in svg and "fail &lt;why&gt;" in svg and "<why>" not in svg
    lines = re.findall(r'<polyline points="([^"]*)"', svg)
    assert [len(p.split()) for p in lines] == [1, 2, 3]  # gap splits "a"; "w" gets a step
    assert chart.has_data()
    assert not LineChart("e", "x", "y", series=[Series("n", [(0, None)], "#000")]).has_data()


# --- html -----------------------------------------------------------------------------


def test_empty_run_renders() -> None:
    html = render_report({})
    assert html.startswith("<!DOCTYPE html>") and "No scenarios in this run." in html
    assert plots(html) == []
    html = render_report({"scenarios": [{}], "started": "yesterday"})
    assert 'data-outcome="unknown"' in html and "No timeline events recorded." in html


def test_hostile_strings_are_escaped() -> None:
    timeline = [{"ts": T0, "kind": HOSTILE, "note": HOSTILE},
                {"ts": T0 + 1, "kind": "fault", "slot": "canary", "error_rate": HOSTILE},
                {"ts": T0 + 1, "kind": "canary.weight", "weight": 10}]
    bad = scenario(nodeid=f"scenarios/x.py::test[{HOSTILE}]", outcome=HOSTILE,
                   failure=f"E   AssertionError: {HOSTILE}", bundle="javascript:alert(1)",
                   checks=[{"name": HOSTILE, "ok": False, "summary": HOSTILE,
                            "evidence": {HOSTILE: [[HOSTILE, 1]]}}],
                   timeline=timeline)
    html = render_report({**run(bad), "run_id": HOSTILE, "command": HOSTILE})
    assert html.count("<script") == 1  # the render self-check, nothing else
    assert "alert('x')" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html and 'href="javascript%3Aalert%281%29/"' in html


def test_canary_plots_failed_checks_and_timeline() -> None:
    failing = scenario(outcome="failed", failure="assert 2 == 0", checks=[
        FAILED_CHECK, {"name": "rows_match", "ok": True, "summary": "40 == 40"}],
        timeline=ROLLBACK)
    html = render_report(run(failing))
    assert plots(html) == ["canary-weight", "canary-error-rate", "canary-latency"]
    section = re.search(r'<section class="scenario card" data-outcome="failed" id="([^"]+)"',
                        html)
    assert section is not None and f'href="#{section.group(1)}"' in html
    assert '<pre class="failure">assert 2 == 0</pre>' in html
    assert 'href="scenarios/faulty/"' in html
    assert html.count('<tr class="check-failed">') == 1
    assert "<td>k1</td><td>2</td>" in html and "<tr><td>id2</td></tr>" in html
    assert ">1/2</td>" in html  # checks ok/total in the summary
    assert "promote &lt; 1 %" in html and "rollback &gt; 5 %" in html
    assert "p95 limit 500 ms" in html and "rollback at 10 %" in html
    assert re.search(r'<tr class="ev ev-rollback ev-bad"><td class="num">9\.5</td>', html)
    assert 'class="ev ev-canary-analysis ev-bad"' in html  # the fail verdict


def test_bluegreen_plots() -> None:
    html = render_report(run(scenario(timeline=SAMPLES)))
    assert plots(html) == ["bluegreen-records", "bluegreen-lag"]
    assert "a_v2 behind a" in html and 'stroke-dasharray="6 4"' in html


def test_plots_without_data_are_left_out_with_a_note() -> None:
    timeline = [{"ts": T0, "kind": "canary.weight", "weight": 10},
                {"ts": T0 + 1, "kind": "canary.analysis", "verdict": "nodata",
                 "values": {"canary_error_rate_pct": "n/a"}}]
    html = render_report(run(scenario(timeline=timeline)))
    assert plots(html) == ["canary-weight"]
    assert "no canary error rates recorded" in html and "no canary latencies recorded" in html


def test_checks_fall_back_to_check_events() -> None:
    timeline = [{"ts": T0, "kind": "check", **FAILED_CHECK}]
    html = render_report(run(scenario(timeline=timeline)))
    assert '<tr class="check-failed">' in html and "ev-check ev-bad" in html


def test_evidence_tables() -> None:
    assert evidence_html([{"k": 1}, {"k": 2, "v": None}]) == (
        '<table class="evidence"><tr><th>k</th><th>v</th></tr>'
        '<tr><td>1</td><td><span class="muted">null</span></td></tr>'
        '<tr><td>2</td><td><span class="muted">null</span></td></tr></table>')
    assert "… 150 more" in evidence_html(list(range(250)))
    assert evidence_html(True) == "true"


def test_anchors_are_unique_slugs() -> None:
    assert slug("scenarios/test_a.py::test_b[x-1]") == "s-scenarios-test-a-py-test-b-x-1"
    html = render_report(run(scenario(nodeid="a b"), scenario(nodeid="a-b")))
    assert 'id="s-a-b"' in html and 'id="s-a-b-2"' in html


def test_write_report_replaces_the_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    target.write_text("old")
    assert write_report(run(scenario()), target) == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_a_halted_canary_with_blue_green_samples_gets_all_five_plots() -> None:
    timeline = [
        {"ts": T0, "kind": "canary.weight", "weight": 10},
        {"ts": T0 + 4, "kind": "canary.analysis", "weight": 10, "verdict": "fail",
         "values": {"canary_error_rate_pct": 30.0, "stable_error_rate_pct": 0.0,
                    "canary_p95_ms": 120.0, "stable_p95_ms": 10.0}},
        {"ts": T0 + 4.1, "kind": "canary.phase", "phase": "halted", "weight": 10,
         "reason": "rollback disabled"},
        *SAMPLES,
    ]
    html = render_report(run(scenario(outcome="failed", timeline=timeline)))
    assert plots(html) == ["canary-weight", "canary-error-rate", "canary-latency",
                           "bluegreen-records", "bluegreen-lag"]
    assert ">halted</text>" in html and "ev-canary-phase ev-bad" in html
    assert "plotsRendered" in html and "plotsTotal" in html


def test_faults_are_a_table_and_lines_on_the_bluegreen_plots() -> None:
    faults = [{"ts": T0 + 2, "kind": "fault", "phase": "start", "label": "process:kill:kafka"},
              {"ts": T0 + 9, "kind": "fault", "phase": "end", "label": "process:kill:kafka",
               "started": T0 + 2, "ended": T0 + 8.5, "held_s": 6.5, "new_pid": 42},
              {"ts": T0 + 10, "kind": "fault", "phase": "start", "label": "disk:fill:warehouse"}]
    html = render_report(run(scenario(timeline=SAMPLES + faults)))
    table = html[html.index('<table class="faults">'):html.index("<h3>Plots</h3>")]
    assert "process:kill:kafka" in table and "2.0 s" in table and "8.5 s" in table
    assert "new_pid" in table, "the fault's evidence is shown"
    assert "disk:fill:warehouse" in table and "still on" in table
    assert html.count("fault: process:kill:kafka") == 2  # records and lag plots
    assert "healed: process:kill:kafka" in html


def test_a_bluegreen_plan_with_edges_is_drawn() -> None:
    plan = {"ts": T0, "kind": "bluegreen.plan", "unchanged": ["src_a"], "external": ["raw_a"],
            "redeploy": [{"table": "int_b", "new_name": "int_b_v2", "reason": "changed"}],
            "edges": [["raw_a", "src_a"], ["src_a", "int_b"]]}
    html = render_report(run(scenario(timeline=[plan, *SAMPLES])))
    assert "<h3>Plan</h3>" in html and "int_b → int_b_v2" in html
    without = render_report(run(scenario(timeline=[{**plan, "edges": []}, *SAMPLES])))
    assert "<h3>Plan</h3>" not in without, "a plan recorded without its edges is not drawn"
