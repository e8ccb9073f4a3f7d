import json

import pytest

from harness.checks.result import CheckResult
from harness.results.bundle import BundleError, compare, decisions, load_bundle, verdicts
from harness.results.recorder import ScenarioRecorder, tree_digest

NODE = "scenarios/test_x.py::test_y"


def record(tmp_path, name, *, outcome, checks, phases, seeds=None, replay=None):
    recorder = ScenarioRecorder(tmp_path / name, nodeid=NODE, base_nodeid=NODE,
                                context={"settings": {"provider": "local"}}, replay=replay)
    for seed_name, default in (seeds or {"data": 7}).items():
        recorder.seed(seed_name, default)
    recorder.fault_schedule([{"at_weight": 10, "faults": {"error_rate": 0.3}}])
    for verdict, phase, weight in phases:
        if verdict:
            recorder.events.emit("canary.analysis", weight=weight, verdict=verdict, values={})
        recorder.events.emit("canary.phase", phase=phase, weight=weight)
    for check_name, ok in checks.items():
        recorder.check(CheckResult(check_name, ok, "summary", {"examples": ["k1"]}))
    recorder.finish(outcome, duration_s=1.5, failure=None if outcome == "passed" else "boom")
    return load_bundle(recorder.directory)




def test_a_bundle_records_seeds_faults_checks_and_the_outcome(tmp_path):
    bundle = record(tmp_path, "a", outcome="failed", checks={"canary_rolled_back": False},
                    phases=[(None, "analysing", 10), ("fail", "halted", 10)])
    manifest = bundle.manifest
    assert manifest["seeds"] == {"data": 7}
    assert manifest["fault_schedule"] == [{"at_weight": 10, "faults": {"error_rate": 0.3}}]
    assert manifest["checks"] == [{"name": "canary_rolled_back", "ok": False,
                                   "summary": "summary"}]
    assert (manifest["outcome"], manifest["failure"], manifest["nodeid"]) == ("failed", "boom",
                                                                              NODE)
    kinds = [e["kind"] for e in bundle.timeline]
    assert kinds == ["fault_schedule", "canary.phase", "canary.analysis", "canary.phase",
                     "check"]


def test_a_replay_takes_the_seeds_and_fault_schedule_of_the_bundle(tmp_path):
    original = record(tmp_path, "a", outcome="passed", checks={}, phases=[],
                      seeds={"data": 99})
    replaying = ScenarioRecorder(tmp_path / "b", nodeid=NODE, base_nodeid=NODE, context={},
                                 replay=original)
    assert replaying.replaying
    assert replaying.seed("data", 7) == 99
    assert replaying.seed("other", 5) == 5, "a seed the bundle lacks keeps its default"
    assert replaying.fault_schedule([]) == original.manifest["fault_schedule"]
    assert json.loads((tmp_path / "b" / "bundle.json").read_text())["replay_of"] == str(
        original.path)


def test_same_conclusions_reproduce_even_with_more_passes_along_the_way(tmp_path):
    first = record(tmp_path, "a", outcome="failed", checks={"rolled_back": False},
                   phases=[(None, "analysing", 10), ("fail", "halted", 10)])
    second = record(tmp_path, "b", outcome="failed", checks={"rolled_back": False},
                    phases=[(None, "analysing", 10), ("fail", "halted", 10)])
    comparison = compare(first, second)
    assert comparison.same and comparison.differences == []


def test_different_conclusions_are_named(tmp_path):
    first = record(tmp_path, "a", outcome="failed", checks={"rolled_back": False},
                   phases=[(None, "analysing", 10), ("fail", "halted", 10)])
    second = record(tmp_path, "b", outcome="passed", checks={"rolled_back": True},
                    phases=[(None, "analysing", 10), ("pass", "shifting", 10)])
    comparison = compare(first, second)
    assert not comparison.same
    text = "\n".join(comparison.differences)
    assert "outcome: failed then passed" in text
    assert "check rolled_back: FAILED then passed" in text
    assert "decisions" in text and "verdicts" in text


def test_decisions_and_verdicts_ignore_ticks_that_changed_nothing():
    timeline = [{"kind": "canary.phase", "phase": "analysing", "weight": 10},
                {"kind": "canary.analysis", "verdict": "pass", "weight": 10},
                {"kind": "canary.analysis", "verdict": "pass", "weight": 10},
                {"kind": "canary.analysis", "verdict": "fail", "weight": 10},
                {"kind": "rollback", "weight_before": 10},
                {"kind": "canary.phase", "phase": "rolling_back", "weight": 10},
                {"kind": "sample", "table": "x", "value": 3}]
    assert decisions(timeline) == ["canary analysing at 10 %", "rollback",
                                   "canary rolling_back at 10 %"]
    assert verdicts(timeline) == ["fail at 10 %"]


def test_a_timeline_cut_short_by_a_crash_still_loads(tmp_path):
    bundle = record(tmp_path, "a", outcome="passed", checks={}, phases=[])
    with (bundle.path / "timeline.jsonl").open("a") as handle:
        handle.write('{"ts": 1, "kind": "canary.ph')
    assert len(load_bundle(bundle.path).timeline) == len(bundle.timeline)


@pytest.mark.parametrize("content, message", [
    (None, "not an incident bundle"),
    ("{", "not valid JSON"),
    ('{"format": 99, "base_nodeid": "x"}', "format 99"),
])
def test_unreadable_bundles_say_why_and_what_to_do(tmp_path, content, message):
    if content is not None:
        (tmp_path / "bundle.json").write_text(content)
    with pytest.raises(BundleError, match=message):
        load_bundle(tmp_path)


def test_inputs_are_copied_with_a_digest_that_follows_their_content(tmp_path):
    policy = tmp_path / "values.yaml"
    policy.write_text("a: 1\n")
    folder = tmp_path / "pipeline"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "x.sql").write_text("select 1")
    recorder = ScenarioRecorder(tmp_path / "bundle", nodeid=NODE, base_nodeid=NODE, context={})
    digest = recorder.record_input("policy", policy)
    recorder.record_input("pipeline", folder)
    assert (tmp_path / "bundle" / "inputs" / "policy" / "values.yaml").read_text() == "a: 1\n"
    assert (tmp_path / "bundle" / "inputs" / "pipeline" / "sub" / "x.sql").exists()
    policy.write_text("a: 2\n")
    assert tree_digest(policy) != digest
    before = tree_digest(folder)
    (folder / "sub" / "x.sql").write_text("select 2")
    assert tree_digest(folder) != before
