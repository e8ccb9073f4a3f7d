import inspect
import json
from dataclasses import dataclass, field

import pytest

from harness.analysis.metrics import MetricSourceError
from harness.analysis.window import Window
from harness.errors import ConfigError, CutoverError
from harness.events import EventLog
from harness.fakes import FakeClock, FakeRouter
from harness.strategy.canary import (
    TERMINAL,
    CanaryController,
    CanaryState,
    CanaryStateError,
    CanaryTimeoutError,
    Phase,
    StateStore,
)
from harness.strategy.flags import FeatureFlags
from harness.strategy.policy import CanaryPolicy

# effective interval 0.5 s, stability period 1.5 s, 3 PASS samples per step
POLICY = CanaryPolicy(enabled=True, version="v2", auto_promotion_enabled=True,
                      compression_factor=60, min_samples=3, analysis_interval_s=30,
                      stability_period_s=90)
INTERVAL = POLICY.effective_analysis_interval_s
FAST = [10.0 + i % 10 for i in range(50)]
SLOW = [900.0 + i % 10 for i in range(50)]


@dataclass
class FakeCanaryProcess:
    """Records deploy/promote calls; has no stop, like the controller's contract."""

    healthy: bool = True
    calls: list[str] = field(default_factory=list)

    def deploy(self) -> None:
        self.calls.append("deploy")

    def is_healthy(self) -> bool:
        return self.healthy

    def promote(self) -> None:
        self.calls.append("promote")


def healthy(weight):
    return Window(50, 0, FAST), Window(50, 0, FAST)


def errors_at(bad_weight):
    def script(weight):
        return (Window(50, 10, FAST), Window(50, 0, FAST)) if weight == bad_weight \
            else healthy(weight)
    return script


def slow_at(bad_weight):
    def script(weight):
        return (Window(50, 0, SLOW), Window(50, 0, FAST)) if weight == bad_weight \
            else healthy(weight)
    return script


def no_data(weight):
    return Window(0, 0, []), Window(50, 0, FAST)


def marginal(weight):  # 2 % errors: above promotion (1 %), below rollback (5 %), by
    return Window(200, 4, FAST * 4), Window(5, 0, FAST[:5])  # more than a handful


def metrics_down(weight):
    raise MetricSourceError("prometheus at 127.0.0.1:9090 unreachable")


class FakeObserve:
    """Scripted windows by canary weight; records what the service's flags said."""

    def __init__(self, router: FakeRouter, flags: FeatureFlags, script) -> None:
        self.router, self.flags, self.script = router, flags, script
        self.calls: list[tuple[float, float, int, int]] = []

    def __call__(self, start: float, end: float) -> tuple[Window, Window]:
        weight = self.router.weights()["canary"]
        self.calls.append((start, end, weight, self.flags.read().canary_traffic_percentage))
        return self.script(weight)


class Rig:
    """The outside world of one canary; ``controller()`` may be called again after a crash."""

    def __init__(self, tmp_path, script, *, policy=POLICY, auto_flag=True, healthy=True):
        self.policy, self.clock = policy, FakeClock()
        self.router, self.process = FakeRouter(self.clock), FakeCanaryProcess(healthy)
        self.flags = FeatureFlags(tmp_path / "flags.json")
        self.flags.update(auto_promotion_enabled=auto_flag)
        self.observe = FakeObserve(self.router, FeatureFlags(self.flags.path), script)
        self.events = EventLog(tmp_path / "events.jsonl")
        self.store = StateStore(tmp_path / "canary-state.json")

    def controller(self, **overrides) -> CanaryController:
        return CanaryController(
            policy=self.policy, store=self.store, router=self.router,
            deploy_canary=self.process.deploy, canary_healthy=self.process.is_healthy,
            promote=self.process.promote, observe=self.observe, flags=self.flags,
            events=self.events, clock=self.clock, **overrides)

    def run(self, controller=None, timeout_s=60.0) -> CanaryState:
        controller = controller or self.controller()
        return controller.run(timeout_s=timeout_s, sleep=self.clock.sleep)

    def outcome(self):
        state = self.store.load()
        return state.phase, self.router.canary_weights, self.process.calls, self.flags.read()


def test_healthy_canary_walks_every_increment_and_is_promoted(tmp_path):
    rig = Rig(tmp_path, healthy)
    state = rig.run()
    assert state.phase is Phase.PROMOTED
    assert rig.router.canary_weights == [0, 10, 30, 50, 75, 100, 0]
    assert rig.process.calls == ["deploy", "promote"]
    flags = rig.flags.read()
    assert (flags.canary_traffic_percentage, flags.canary_enabled) == (0, False)
    assert [h["to"] for h in state.history] == [
        "deploying", "verifying", "shifting", *["analysing", "shifting"] * 4,
        "analysing", "promoting", "promoted"]
    # the service's flags always matched the router while the canary was judged
    assert all(weight == flag for _, _, weight, flag in rig.observe.calls)
    # every step waited its stability period and saw min_samples PASS samples
    per_step = {w: sum(1 for c in rig.observe.calls if c[2] == w) for w in (10, 30, 50, 75, 100)}
    assert all(n >= POLICY.min_samples for n in per_step.values())
    phase_events = rig.events.of_kind("canary.phase")
    assert [e.details["phase"] for e in phase_events] == [h["to"] for h in state.history]
    assert all({"weight", "reason", "values"} <= set(e.details) for e in phase_events)


def test_error_burst_at_10_rolls_back_within_one_interval_and_keeps_the_canary(tmp_path):
    rig = Rig(tmp_path, errors_at(10))
    state = rig.run()
    assert state.phase is Phase.ROLLED_BACK
    assert rig.router.canary_weights == [0, 10, 0]
    assert rig.router.current == {"stable": 100, "canary": 0}
    shifted_at, rolled_back_at = rig.router.changes[1][0], rig.router.changes[2][0]
    assert rolled_back_at - shifted_at <= INTERVAL
    assert rig.process.calls == ["deploy"]  # deployed once, never undone or promoted
    assert "stop" not in str(inspect.signature(CanaryController))
    assert rig.flags.read().canary_traffic_percentage == 0
    (rollback,) = rig.events.of_kind("rollback")
    assert "error rate 20 % > rollback threshold 5 %" in rollback.details["reason"]
    assert rollback.details["values"]["canary_error_rate_pct"] == 20.0
    assert "kept running for debugging" in state.reason


def test_latency_degradation_at_50_rolls_back(tmp_path):
    rig = Rig(tmp_path, slow_at(50))
    state = rig.run()
    assert state.phase is Phase.ROLLED_BACK
    assert rig.router.canary_weights == [0, 10, 30, 50, 0]
    (rollback,) = rig.events.of_kind("rollback")
    assert "p95 latency" in rollback.details["reason"]
    assert rollback.details["weight_before"] == 50
    assert "promote" not in rig.process.calls


@pytest.mark.parametrize("script, verdict", [(no_data, "nodata"), (marginal, "marginal")])
def test_nodata_or_marginal_never_promotes_nor_rolls_back(tmp_path, script, verdict):
    rig = Rig(tmp_path, script)
    with pytest.raises(CanaryTimeoutError, match="still analysing at 10 %") as caught:
        rig.run(timeout_s=20)
    state = caught.value.state
    assert (state.phase, state.weight, state.pass_count) == (Phase.ANALYSING, 10, 0)
    assert len(state.samples) >= 20 / INTERVAL - 2
    assert {s["verdict"] for s in state.samples} == {verdict}
    assert rig.router.canary_weights == [0, 10]
    assert rig.process.calls == ["deploy"]


def test_metrics_down_aborts_after_max_failed_queries(tmp_path):
    rig = Rig(tmp_path, metrics_down)
    state = rig.run(rig.controller(max_failed_queries=3))
    assert state.phase is Phase.ABORTED
    assert len(rig.observe.calls) == 3
    assert rig.router.canary_weights == [0, 10, 0]
    assert rig.process.calls == ["deploy"]
    assert "metrics unavailable for 3 queries in a row" in state.reason
    assert "unreachable" in state.reason
    assert len(rig.events.of_kind("canary.metrics_error")) == 3


def test_metric_failures_that_are_not_consecutive_do_not_abort(tmp_path):
    ticks = []

    def flaky(weight):
        # by analysis tick (a tick may query twice: its window and the whole step):
        # two ticks fail, then one answers, again and again
        if not ticks or ticks[-1] != rig.clock.now:
            ticks.append(rig.clock.now)
        if len(ticks) % 3:
            raise MetricSourceError("timeout")
        return healthy(weight)

    rig = Rig(tmp_path, flaky)
    assert rig.run(timeout_s=200).phase is Phase.PROMOTED
    # a failed query leaves the window open: the next window starts where it began
    starts = [start for start, *_ in rig.observe.calls[:3]]
    assert starts[0] == starts[1] == starts[2]


@pytest.mark.parametrize("policy_auto, flag_auto", [(True, False), (False, True)])
def test_auto_promotion_off_waits_at_100_for_approval(tmp_path, policy_auto, flag_auto):
    policy = CanaryPolicy(**{**POLICY.__dict__, "auto_promotion_enabled": policy_auto})
    rig = Rig(tmp_path, healthy, policy=policy, auto_flag=flag_auto)
    controller = rig.controller()
    state = rig.run(controller)
    assert (state.phase, state.weight) == (Phase.AWAITING_PROMOTION, 100)
    assert rig.process.calls == ["deploy"]
    assert controller.step().phase is Phase.AWAITING_PROMOTION  # waits, does nothing
    controller.approve_promotion("release manager approved")
    assert rig.run(controller).phase is Phase.PROMOTED
    assert rig.process.calls == ["deploy", "promote"]


def test_approval_is_refused_unless_awaiting_promotion(tmp_path):
    rig = Rig(tmp_path, healthy)
    with pytest.raises(CanaryStateError, match="this one is in init"):
        rig.controller().approve_promotion()


def test_unhealthy_canary_is_rolled_back_before_any_traffic(tmp_path):
    rig = Rig(tmp_path, healthy, healthy=False)
    state = rig.run()
    assert state.phase is Phase.ROLLED_BACK
    assert rig.router.canary_weights == [0, 0]
    assert rig.observe.calls == []
    assert "not healthy" in rig.events.of_kind("rollback")[0].details["reason"]


def test_step_takes_exactly_one_transition(tmp_path):
    rig = Rig(tmp_path, healthy)
    controller = rig.controller()
    phases = [controller.step().phase for _ in range(4)]
    assert phases == [Phase.DEPLOYING, Phase.VERIFYING, Phase.SHIFTING, Phase.ANALYSING]
    assert controller.step().samples == []  # no analysis interval has passed yet
    rig.clock.sleep(INTERVAL)
    assert [s["verdict"] for s in controller.step().samples] == ["pass"]


SCENARIOS = {
    "healthy": (healthy, True),
    "errors": (errors_at(30), True),
    "metrics_down": (metrics_down, True),
    "manual": (healthy, False),
}
CRASH_POINTS = [("healthy", p) for p in ("init", "deploying", "verifying", "shifting",
                                         "analysing", "promoting", "promoted")] + [
    ("errors", "rolling_back"), ("errors", "rolled_back"),
    ("metrics_down", "aborted"), ("manual", "awaiting_promotion")]


def _step_until(rig: Rig, controller: CanaryController, phase: str, *, samples=0) -> None:
    """Step like ``run`` does until ``phase`` (with ``samples`` samples) is recorded."""
    for _ in range(1000):
        state = rig.store.load()
        if state.phase == phase and len(state.samples) >= samples:
            return
        if controller.step() == state:
            rig.clock.sleep(INTERVAL / 4)
    raise AssertionError(f"never reached {phase}")


@pytest.mark.parametrize("scenario, phase", CRASH_POINTS)
def test_a_new_controller_resumes_after_a_crash_in_any_phase(tmp_path, scenario, phase):
    script, auto = SCENARIOS[scenario]
    reference = Rig(tmp_path / "reference", script, auto_flag=auto)
    reference.run()
    rig = Rig(tmp_path / "crashed", script, auto_flag=auto)
    _step_until(rig, rig.controller(), phase, samples=1 if phase == "analysing" else 0)
    rig.run(rig.controller())  # a new controller, same state file and world
    assert rig.outcome() == reference.outcome()
    assert rig.store.load().phase in TERMINAL | {Phase.AWAITING_PROMOTION}


def test_state_round_trips_through_its_file(tmp_path):
    store = StateStore(tmp_path / "s" / "state.json")
    assert store.load() == CanaryState()  # missing file: a fresh canary
    state = CanaryState(phase=Phase.ANALYSING, step_index=2, weight=30,
                        samples=[{"ts": 1.0, "weight": 30, "verdict": "pass", "values": {}}],
                        history=[{"ts": 1.0, "from": "shifting", "to": "analysing"}])
    store.save(state)
    assert json.loads(store.path.read_text())["phase"] == "analysing"
    assert store.load() == state
    assert [p.name for p in store.path.parent.iterdir()] == ["state.json"]


@pytest.mark.parametrize("text", [
    "{truncated", "[]", '{"phase": "exploding"}', '{"weight": "ten"}', '{"colour": 1}'])
def test_corrupt_state_file_names_the_file_and_the_fix(tmp_path, text):
    rig = Rig(tmp_path, healthy)
    rig.store.path.write_text(text)
    with pytest.raises(CanaryStateError) as caught:
        rig.controller().step()
    message = str(caught.value)
    assert str(rig.store.path) in message
    assert "delete" in message and "restore" in message
    assert rig.router.changes == []


def test_controller_refuses_settings_it_cannot_honour(tmp_path):
    rig = Rig(tmp_path, healthy)
    with pytest.raises(ConfigError, match="max_failed_queries") as caught:
        rig.controller(max_failed_queries=0)
    assert isinstance(caught.value, CutoverError)


def test_rollback_disabled_holds_the_failing_canary_and_waits_for_a_person(tmp_path):
    policy = CanaryPolicy(**{**POLICY.__dict__, "rollback_enabled": False})
    rig = Rig(tmp_path, errors_at(10), policy=policy)
    state = rig.run()
    assert state.phase is Phase.HALTED and state.phase in TERMINAL
    assert rig.router.canary_weights == [0, 10], "the weight is held, not rolled back"
    assert rig.router.current == {"stable": 90, "canary": 10}
    (skipped,) = rig.events.of_kind("canary.rollback_skipped")
    assert skipped.details["weight"] == 10
    assert "rollback threshold 5 %" in skipped.details["reason"]
    assert not rig.events.of_kind("rollback")
    assert "manual action required" in state.reason
    (policy_event,) = rig.events.of_kind("canary.policy")
    assert policy_event.details["rollback_enabled"] is False
    assert [e.details["weight"] for e in rig.events.of_kind("canary.weight")] == [0, 10]
