"""Acceptance of the results: the reference incident (a canary failing at 10 % with the
policy's rollback disabled) run with `cutover run incidents`, then replayed.

The run must fail, and say so everywhere people and CI look: the exit code, JUnit (the
failed checks with their evidence), the HTML report as Chromium renders it (plots drawn,
the failed checks' evidence in tables), and its bundle, whose replay must come to the
same failure.
"""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.integration.browser import body_data, dump_dom
from tests.integration.run_root import private_run_root

CUTOVER = [sys.executable, "-m", "harness.cli"]


@pytest.fixture(scope="module")
def incident(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    with private_run_root() as run_root:
        done = subprocess.run([*CUTOVER, "run", "incidents", f"--results-dir={results}",
                               f"--run-root={run_root}"],
                              capture_output=True, text=True, timeout=600, check=False)
    (run,) = [p for p in results.iterdir() if p.is_dir() and not p.is_symlink()]
    return done, run, run_root


def test_the_failing_run_exits_non_zero_with_a_line_per_scenario(incident):
    done, _run, _ = incident
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "FAILED  fixtures/incidents/test_canary_rollback_disabled.py::" in done.stdout
    assert "failed: canary_rolled_back, canary_errors_contained" in done.stdout
    assert "last decision: canary halted at 10 %" in done.stdout
    assert "canary 10 %: FAIL (errors" in done.stdout, "progress shows the verdict live"


def test_junit_fails_the_scenario_with_the_checks_evidence(incident):
    _, run, _ = incident
    (case,) = ET.parse(run / "junit.xml").iter("testcase")
    failure = case.find("failure")
    assert failure is not None
    assert "check canary_rolled_back FAILED" in failure.get("message") + failure.text
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    rolled_back = properties["check:canary_rolled_back"]
    assert rolled_back.startswith("FAILED: FAIL at 10 %; the canary ended halted with 10 %")
    assert '"canary_weight": 10' in rolled_back and "rollback threshold 5 %" in rolled_back
    assert properties["check:canary_errors_contained"].startswith("FAILED: ")


def test_the_report_renders_its_plots_and_shows_the_failure(incident):
    _, run, _ = incident
    dom = dump_dom(run / "report.html")
    data = body_data(dom)
    assert int(data["plots-total"]) >= 3
    assert data["plots-rendered"] == data["plots-total"], "every plot drew its lines"
    for plot in ("canary-weight", "canary-error-rate", "canary-latency"):
        assert f'data-plot="{plot}"' in dom, plot
    assert 'data-outcome="failed"' in dom
    failed_rows = [row for row in dom.split("<tr")[1:] if "check-failed" in row.split(">")[0]]
    assert any("canary_rolled_back" in row for row in failed_rows)
    assert any("canary_errors_contained" in row for row in failed_rows)
    assert "halted" in dom and "rollback_skipped" in dom, "the timeline shows what happened"


def test_the_bundle_holds_what_a_replay_needs_and_the_failure_logs(incident):
    _, run, _ = incident
    (bundle,) = (run / "scenarios").iterdir()
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["fault_schedule"] == [{"at_weight": 10, "faults": {"error_rate": 0.3}}]
    assert manifest["inputs"]["policy"]["sha256"]
    assert (bundle / manifest["inputs"]["policy"]["copy"]).exists()
    logs = {p.name for p in (bundle / "logs").iterdir()}
    assert {"haproxy.log", "prometheus.log"} <= logs
    assert any(name.startswith("data-tier-canary") for name in logs)


def test_replaying_the_bundle_reproduces_the_same_failure(incident, tmp_path):
    _, run, _ = incident
    (bundle,) = (run / "scenarios").iterdir()
    with private_run_root() as run_root:
        done = subprocess.run([*CUTOVER, "replay", str(bundle), "--json",
                               f"--results-dir={tmp_path}", f"--run-root={run_root}"],
                              capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    comparison = json.loads(done.stdout[done.stdout.index("{\n"):])
    assert comparison["reproduced"] is True
    assert comparison["replay"]["outcome"] == "failed"
    failed = {name for name, ok in comparison["replay"]["checks"].items() if not ok}
    assert failed == {"canary_rolled_back", "canary_errors_contained",
                      "canary_no_traffic_after_rollback"}
    assert comparison["replay"]["decisions"][-1] == "canary halted at 10 %"
