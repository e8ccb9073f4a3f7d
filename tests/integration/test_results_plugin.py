"""The results the plugin writes (JUnit, bundles, summaries, logs, repetitions), run in a
child pytest with pytester against the real stack."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from tests.integration.run_root import private_run_root

SCENARIOS = """
import psycopg
from harness.checks.result import CheckResult

def test_checks_hold(scenario, postgres, namespace):
    with psycopg.connect(postgres.dsn) as conn:
        conn.execute(f'CREATE TABLE "{namespace.schema}".t (x int)')
    scenario.check(CheckResult("nothing_lost(t)", True, "0 of 3 missing", {"missing": 0}))

def test_a_failed_check_fails_the_test_even_if_the_body_goes_on(scenario, postgres):
    scenario.seed("data", 11)
    scenario.check(CheckResult("no_duplicates(t)", False, "2 duplicated keys",
                               {"examples": [["k1", 2], ["k2", 3]]}))
"""


def run(pytester, *args):
    pytester.makepyfile(SCENARIOS)
    results = pytester.path / "results"
    with private_run_root() as run_root:
        outcome = pytester.runpytest_subprocess(
            f"--cutover-run-root={run_root}", f"--cutover-results-dir={results}",
            "--cutover-run-id=r1", f"--junitxml={results / 'r1' / 'junit.xml'}", *args)
    return outcome, results / "r1"


def test_checks_become_junit_properties_and_a_failed_one_fails_with_its_evidence(pytester):
    outcome, results = run(pytester)
    outcome.assert_outcomes(passed=1, failed=1)
    assert outcome.ret == 1, "a failed check is a non-zero exit for CI"
    cases = {c.get("name"): c for c in ET.parse(results / "junit.xml").iter("testcase")}
    failed = cases["test_a_failed_check_fails_the_test_even_if_the_body_goes_on"]
    properties = {p.get("name"): p.get("value") for p in failed.iter("property")}
    assert properties["check:no_duplicates(t)"].startswith("FAILED: 2 duplicated keys; "
                                                           "evidence: ")
    assert '["k1", 2]' in properties["check:no_duplicates(t)"]
    message = failed.find("failure").get("message") + failed.find("failure").text
    assert "check no_duplicates(t) FAILED: 2 duplicated keys" in message and "k2" in message
    passed = {p.get("name"): p.get("value") for p in cases["test_checks_hold"].iter("property")}
    assert passed == {"check:nothing_lost(t)": "passed: 0 of 3 missing"}
    outcome.stdout.fnmatch_lines([
        "*cutover: scenarios*",
        "PASSED  *::test_checks_hold (*checks 1/1)",
        "FAILED  *::test_a_failed_check_fails* (*checks 0/1; failed: no_duplicates(t))",
        f"report: {results / 'report.html'}"])


def test_each_scenario_leaves_a_bundle_and_a_failure_leaves_its_logs(pytester):
    _outcome, results = run(pytester)
    summary = json.loads((results / "summary.json").read_text())
    by_name = {s["nodeid"].split("::")[1]: s for s in summary["scenarios"]}
    failed = by_name["test_a_failed_check_fails_the_test_even_if_the_body_goes_on"]
    bundle = json.loads((results / failed["bundle"] / "bundle.json").read_text())
    assert (bundle["outcome"], bundle["seeds"]) == ("failed", {"data": 11})
    assert bundle["versions"]["components"]["kafka"] and bundle["settings"]["provider"]
    assert [p.split("/")[-1] for p in failed["logs"]] == ["postgres.log"]
    assert by_name["test_checks_hold"]["logs"] == []
    timeline = (results / failed["bundle"] / "timeline.jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in timeline] == ["scenario.start", "check"]
    assert (results / "report.html").stat().st_size > 0


def test_repeat_runs_each_test_n_times_and_tallies_them(pytester):
    outcome, results = run(pytester, "--cutover-repeat=2", "-k", "hold")
    outcome.assert_outcomes(passed=2)
    outcome.stdout.fnmatch_lines(["*test_checks_hold[[]rep1of2[]]*",
                                  "repeated *::test_checks_hold: 2/2 passed"])
    assert len(list((results / "scenarios").iterdir())) == 2


def test_keep_on_failure_keeps_the_stack_only_when_something_failed(pytester):
    outcome, _ = run(pytester, "--cutover-keep-on-failure", "-k", "hold")
    outcome.stdout.no_fnmatch_line("*stack kept running*")
    with private_run_root() as run_root:
        pytester.makepyfile(SCENARIOS)
        failing = pytester.runpytest_subprocess(
            f"--cutover-run-root={run_root}", f"--cutover-results-dir={pytester.path}/r",
            "--cutover-keep-on-failure", "-k", "fails")
        down = subprocess.run([sys.executable, "-m", "harness.cli", "down", "--run-root",
                               str(run_root)], capture_output=True, text=True, timeout=120)
    failing.stdout.fnmatch_lines(["*cutover: stack kept running*", "*stop it with: cutover down*"])
    assert "postgres" in down.stdout
