"""The service target spec, the request mix, the router+ledger window, the step split,
and how an outcome is named: pure logic, with fakes named as such."""

import pytest

from harness.analysis.router_metrics import SlotCounts, combine, slot_outcomes
from harness.checks.canary import split_tolerance_pct, weight_split
from harness.deploy.target import ServiceTarget, VersionSpec, parse_request_mix
from harness.errors import ConfigError
from harness.fakes import FakeRouter
from harness.results.bundle import decisions
from harness.strategy.canary import CanaryState, Phase
from harness.strategy.canary_run import outcome_of
from harness.strategy.canary_steps import StepTracker
from harness.traffic.load import Outcome


def test_a_version_is_a_command_with_a_port_or_a_url():
    command = VersionSpec.parse("python -m svc --port {port} --flag 'a b'", label="v1")
    assert command.argv(8080) == ["python", "-m", "svc", "--port", "8080", "--flag", "a b"]
    assert not command.external
    url = VersionSpec.parse("http://127.0.0.1:8081/", label="v2")
    assert url.external and url.host_port() == ("127.0.0.1", 8081)


@pytest.mark.parametrize("text, message", [
    ("python -m svc", "has no {port}"),
    ("", "empty"),
    ("http://127.0.0.1:8080/api", "no path"),
    ("python 'unclosed", "cannot split"),
])
def test_bad_versions_name_the_option_and_the_fix(text, message):
    with pytest.raises(ConfigError, match=message) as info:
        VersionSpec.parse(text, label="v", option="--canary")
    assert str(info.value).startswith("--canary")


def test_the_target_round_trips_through_json_and_refuses_twin_labels():
    target = ServiceTarget.parse(stable="svc --port {port}", canary="http://127.0.0.1:9",
                                 health_path="/healthz", values_root="svc.canary",
                                 requests="GET /a\nPOST /b {\"x\": 1}\n")
    assert ServiceTarget.from_json(target.to_json()) == target
    with pytest.raises(ConfigError, match="different labels"):
        ServiceTarget.parse(stable="a {port}", canary="b {port}", stable_label="x",
                            canary_label="x")


def test_the_request_mix_takes_methods_paths_and_bodies():
    mix = parse_request_mix("# comment\n\nget /items/1\nPOST /orders {\"item\": 1}\n")
    assert mix == (("GET", "/items/1", ""), ("POST", "/orders", '{"item": 1}'))
    with pytest.raises(ConfigError, match="line 2: 'FETCH /x'"):
        parse_request_mix("GET /\nFETCH /x")
    with pytest.raises(ConfigError, match="no 'METHOD PATH' line"):
        parse_request_mix("# nothing\n")


def outcome(ts, slot, status=200, latency=10.0, version=""):
    return Outcome(ts, version or slot, status, latency, slot=slot)


def test_the_window_is_the_ledgers_plus_the_errors_only_the_router_saw():
    answered = [outcome(1, "canary", latency=20.0), outcome(2, "canary", status=503)]
    ledger = [*answered, Outcome(2.5, "", 0, 30.0, slot="")]  # no answer: charged
    window = slot_outcomes(ledger, "canary", 0)
    alike = combine(SlotCounts(requests=2.2, errors=0.0), window, window)
    assert (alike.requests, alike.errors) == (3, 2)
    assert alike.latencies_ms == [20.0, 10.0]
    # the router saw 40 % errors where the ledger saw 2 of 3: no excess to charge
    assert combine(SlotCounts(10, 4), window, window).errors == 2
    clean = slot_outcomes([outcome(t, "canary") for t in range(20)], "canary", 0)
    hidden = combine(SlotCounts(requests=20, errors=10), clean, clean)
    assert (hidden.requests, hidden.errors) == (20, 10), "the router's 5xx are charged"


def test_a_fault_in_the_window_is_not_diluted_by_the_range_before_it():
    # 30 healthy requests, then 10 of which 5 failed: the router counted the same
    ledger = [outcome(t, "canary") for t in range(30)] + \
        [outcome(30 + t, "canary", status=500 if t % 2 else 200) for t in range(10)]
    counts = SlotCounts(requests=40, errors=5)
    window = combine(counts, slot_outcomes(ledger, "canary", 0),
                     slot_outcomes(ledger, "canary", 30))
    assert (window.requests, window.errors) == (10, 5)


def test_split_tolerance_narrows_with_more_requests_but_never_below_the_floor():
    assert split_tolerance_pct(10, 100) == pytest.approx(12.0)
    assert split_tolerance_pct(10, 100_000) == 3.0
    assert split_tolerance_pct(0, 50) == 3.0
    steps = [{"weight": 10, "requests": 500, "observed_pct": 30.0, "within_tolerance": False},
             {"weight": 30, "requests": 5, "observed_pct": 90.0, "within_tolerance": False}]
    check = weight_split(steps)
    assert not check.ok and "1 of 2 steps" in check.summary and "10 %: 30.0 %" in check.summary


class FakeLoad:
    def __init__(self, outcomes):
        self.outcomes = outcomes

    def snapshot(self, *, since=0.0, until=None):
        return [o for o in self.outcomes if o.ts >= since and (until is None or o.ts < until)]


def test_each_step_measures_the_share_from_the_ledger_and_the_router(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("harness.strategy.canary_steps.time.time", lambda: now[0])
    ledger = [outcome(1000.6 + i / 100, "canary" if i % 10 == 0 else "stable")
              for i in range(300)]
    router = FakeRouter()
    tracker = StepTracker(FakeLoad(ledger), router)
    assert tracker.observe(10)
    assert not tracker.observe(10)
    now[0], router.counters = 1004.0, {"stable": 270, "canary": 30}
    tracker.close()
    assert not tracker.observe(10), "a closed step is not reopened at the same weight"
    step = tracker.steps[0]
    assert step["weight"] == 10 and step["observed_pct"] == pytest.approx(10.0)
    assert step["router_pct"] == pytest.approx(10.0) and step["within_tolerance"]


def test_the_outcome_names_the_weight_at_which_it_was_decided():
    state = CanaryState(phase=Phase.ROLLED_BACK, weight=0, history=[
        {"ts": 1, "from": "shifting", "to": "analysing", "weight": 10, "reason": ""},
        {"ts": 2, "from": "analysing", "to": "rolling_back", "weight": 10, "reason": "x"},
        {"ts": 3, "from": "rolling_back", "to": "rolled_back", "weight": 0, "reason": "y"}])
    assert outcome_of(state) == ("rolled_back", 10)
    assert outcome_of(CanaryState(phase=Phase.AWAITING_PROMOTION, weight=100)) == (
        "awaiting_approval", 100)
    timeline = [{"kind": "canary.phase", "phase": "rolling_back", "weight": 50},
                {"kind": "canary.phase", "phase": "rolled_back", "weight": 0}]
    assert decisions(timeline)[-1] == "canary rolled_back at 50 %"


def test_requests_without_a_slot_make_the_ledger_share_a_range(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("harness.strategy.canary_steps.time.time", lambda: now[0])
    # 30 % set; of 100 requests 30 went to the canary, and 40 of the 70 stable ones
    # stalled past the client's timeout (no slot): of those answered, the canary has 50 %
    ledger = [outcome(1000.6 + i / 100, "canary" if i % 10 < 3 else
                      ("" if i % 2 else "stable")) for i in range(100)]
    router = FakeRouter()
    tracker = StepTracker(FakeLoad(ledger), router)
    tracker.observe(30)
    now[0], router.counters = 1002.2, {"stable": 70, "canary": 30}
    tracker.close()
    step = tracker.steps[0]
    assert step["observed_pct"] == pytest.approx(50.0) and step["unattributed"] == 40
    assert step["within_tolerance"], "the stalled requests may have been stable's"
    # the same share with every request answered is off
    answered = [outcome(o.ts, "canary" if i % 100 < 55 else "stable")
                for i, o in enumerate(ledger)]
    now[0] = 1000.0
    tracker = StepTracker(FakeLoad(answered), FakeRouter())
    tracker.observe(30)
    now[0] = 1004.0
    tracker.close()
    assert not tracker.steps[0]["within_tolerance"]


def test_requests_just_before_a_change_was_seen_are_not_judged_by_the_old_weight(monkeypatch):
    # 0 %: 32 requests to stable; the weight moved to 10 % and the tracker saw it 0.1 s
    # later, after one request had gone to the canary. It is the new split's, not 0 %'s.
    now = [1000.0]
    monkeypatch.setattr("harness.strategy.canary_steps.time.time", lambda: now[0])
    ledger = [outcome(1000.6 + i / 10, "stable") for i in range(32)]
    ledger.append(outcome(1003.9, "canary"))
    router = FakeRouter()
    tracker = StepTracker(FakeLoad(ledger), router)
    tracker.observe(0)
    now[0], router.counters = 1004.0, {"stable": 68, "canary": 1}
    tracker.observe(10)
    step = tracker.steps[0]
    assert step["weight"] == 0 and step["observed_pct"] == 0.0, step
    assert step["within_tolerance"], step
