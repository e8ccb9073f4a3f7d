import json

import pytest

from harness.events import Event
from harness.results.logs import copy_since, log_marks
from harness.results.progress import progress_line
from harness.results.session import ResultsSession, base_nodeid, slug, summary_line


@pytest.mark.parametrize("nodeid, base", [
    ("s/test_a.py::test_b", "s/test_a.py::test_b"),
    ("s/test_a.py::test_b[rep2of3]", "s/test_a.py::test_b"),
    ("s/test_a.py::test_b[x-rep1of2]", "s/test_a.py::test_b[x]"),
    ("s/test_a.py::test_b[x]", "s/test_a.py::test_b[x]"),
])
def test_base_nodeid_drops_only_the_repetition(nodeid, base):
    assert base_nodeid(nodeid) == base


def test_slugs_are_safe_folder_names():
    assert slug("scenarios/test_a.py::test_b[x/y z]") == "test_a--test_b_x_y_z"
    assert "/" not in slug("a/b/c.py::d") and len(slug("x.py::" + "y" * 500)) <= 150


def test_a_session_writes_summary_and_points_latest_at_itself(tmp_path):
    session = ResultsSession(tmp_path, command="pytest", run_id="run-1")
    first = session.scenario_dir("s/test_a.py::test_b")
    first.mkdir(parents=True)
    assert session.scenario_dir("s/test_a.py::test_b") != first, "never overwrite a bundle"
    session.add(nodeid="s/test_a.py::test_b", outcome="failed", duration_s=2.25,
                failure="boom", bundle=first, logs=[first / "logs" / "kafka.log"],
                decision="canary halted at 10 %",
                checks=[{"name": "c1", "ok": True, "summary": "", "evidence": {}},
                        {"name": "c2", "ok": False, "summary": "", "evidence": {}}])
    summary = json.loads((tmp_path / "run-1" / "summary.json").read_text())
    assert summary["scenarios"][0]["bundle"] == "scenarios/test_a--test_b"
    assert summary["scenarios"][0]["logs"] == ["scenarios/test_a--test_b/logs/kafka.log"]
    assert (tmp_path / "latest").resolve() == (tmp_path / "run-1").resolve()
    line = summary_line(summary["scenarios"][0])
    assert line.startswith("FAILED  s/test_a.py::test_b (2.2 s, checks 1/2; failed: c2)")
    assert line.endswith("last decision: canary halted at 10 %")


def test_failure_logs_hold_only_what_the_scenario_added(tmp_path):
    log, rotated = tmp_path / "kafka.log", tmp_path / "flink.log"
    log.write_text("before\n")
    rotated.write_text("old old old\n")
    marks = log_marks([log, rotated, tmp_path / "absent.log"])
    log.write_text("before\nduring\n")
    rotated.write_text("new\n")  # shorter than its mark: rotated, taken whole
    copies = copy_since(marks, [log, rotated, tmp_path / "absent.log"], tmp_path / "out")
    texts = {c.name: c.read_text() for c in copies}
    assert texts["kafka.log"].endswith("during\n") and "before" not in texts["kafka.log"]
    assert texts["flink.log"].endswith("new\n")


def test_failure_logs_are_capped_at_their_tail(tmp_path):
    log = tmp_path / "big.log"
    log.write_text("x" * 100 + "TAIL")
    (copy,) = copy_since({}, [log], tmp_path / "out", max_bytes=10)
    assert copy.read_text().endswith("xxxxxxTAIL") and "first 94 bytes" in copy.read_text()


def test_progress_shows_decisions_and_hides_the_rest():
    analysis = Event(0, "canary.analysis", {"weight": 10, "verdict": "fail", "values": {
        "canary_error_rate_pct": 25.8, "stable_error_rate_pct": 0.0,
        "canary_p95_ms": "n/a", "stable_p95_ms": 10.0}})
    assert progress_line(analysis) == ("canary 10 %: FAIL (errors 25.8 % vs 0 %, p95 n/a vs "
                                       "10 ms)")
    check = Event(0, "check", {"name": "nothing_lost(x)", "ok": False, "summary": "2 missing"})
    assert progress_line(check) == "check nothing_lost(x): FAILED (2 missing)"
    assert progress_line(Event(0, "sample", {"table": "x", "value": 1})) is None
