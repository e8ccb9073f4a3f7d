from harness.report.html import render_report, write_report

T0 = 1_700_000_000.0


def scenario(**overrides):
    base = {
        "nodeid": "scenarios/test_c.py::test_rollback",
        "outcome": "failed", "duration_s": 12.5, "failure": "boom <script>alert(1)</script>",
        "bundle": "scenarios/test_c--test_rollback",
        "checks": [{"name": "canary_rolled_back", "ok": False, "summary": "ended halted",
                    "evidence": {"examples": [["k1", 2], ["k2", 3]]}},
                   {"name": "no_duplicates(<t>)", "ok": True, "summary": "0 dupes",
                    "evidence": {}}],
        "timeline": [
            {"ts": T0, "kind": "canary.policy", "error_rate_fail_pct": 5.0,
             "error_rate_pass_pct": 1.0, "latency_p95_ms_max": 500.0},
            {"ts": T0 + 1, "kind": "canary.weight", "weight": 10},
            {"ts": T0 + 2, "kind": "fault", "slot": "canary", "error_rate": 0.3},
            {"ts": T0 + 4, "kind": "canary.analysis", "at": T0 + 4, "weight": 10,
             "verdict": "fail", "reasons": ["too many errors"],
             "values": {"canary_error_rate_pct": 30.0, "stable_error_rate_pct": 0.0,
                        "canary_p95_ms": 120.0, "stable_p95_ms": 10.0,
                        "canary_p99_ms": "n/a", "stable_p99_ms": 12.0}},
            {"ts": T0 + 4.1, "kind": "canary.phase", "at": T0 + 4.1, "phase": "halted",
             "weight": 10, "reason": "rollback disabled", "values": {}},
            {"ts": T0 + 5, "kind": "bluegreen.pairs", "pairs": [["t", "t_v2"]]},
            {"ts": T0 + 5, "kind": "sample", "series": "records", "table": "t", "value": 10},
            {"ts": T0 + 6, "kind": "sample", "series": "records", "table": "t_v2", "value": 4},
        ]}
    return {**base, **overrides}


def run(*scenarios):
    return {"run_id": "r1", "started": T0, "finished": T0 + 30, "command": "pytest",
            "results_dir": "/tmp/r1", "scenarios": list(scenarios)}


def test_a_failed_scenario_shows_its_plots_failed_checks_and_evidence():
    html = render_report(run(scenario()))
    for plot in ("canary-weight", "canary-error-rate", "canary-latency", "bluegreen-records",
                 "bluegreen-lag"):
        assert f'data-plot="{plot}"' in html, plot
    assert 'data-outcome="failed"' in html
    failed_rows = [row for row in html.split("<tr")[1:] if "check-failed" in row.split(">")[0]]
    assert len(failed_rows) == 1 and "canary_rolled_back" in failed_rows[0]
    assert "k2" in html, "evidence examples are shown"
    assert "plotsRendered" in html, "the page checks its own plots when it loads"


def test_hostile_text_is_escaped():
    html = render_report(run(scenario()))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "no_duplicates(&lt;t&gt;)" in html


def test_an_empty_run_and_a_bare_scenario_render(tmp_path):
    assert "No scenarios" in render_report(run())
    bare = scenario(timeline=[], checks=[], failure=None, outcome="passed")
    html = render_report(run(bare))
    assert 'data-outcome="passed"' in html and 'data-plot="' not in html
    path = write_report(run(bare), tmp_path / "report.html")
    assert 'data-outcome="passed"' in path.read_text()
    assert not list(tmp_path.glob("*.tmp")), "written atomically, nothing left behind"
