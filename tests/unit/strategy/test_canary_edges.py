"""The analysis edge cases: an inconclusive step pauses and then the policy decides; a new
canary version during the analysis restarts it."""

import dataclasses

import pytest

from harness.strategy.canary import CanaryStateError, Phase
from tests.unit.strategy.test_canary import POLICY, Rig, healthy, marginal


def test_an_inconclusive_step_pauses_then_the_policy_rolls_back(tmp_path):
    rig = Rig(tmp_path, marginal)
    state = rig.run(rig.controller(inconclusive_after_s=4 * POLICY.effective_stability_period_s))
    phases = [h["to"] for h in state.history]
    assert phases[-3:] == ["paused", "rolling_back", "rolled_back"]
    paused = next(h for h in state.history if h["to"] == "paused")
    assert paused["weight"] == 10 and "inconclusive at 10 %: 0 PASS of" in paused["reason"]
    assert "MARGINAL" in paused["reason"]
    assert rig.router.weights()["canary"] == 0
    assert "promote" not in rig.process.calls


def test_an_inconclusive_step_halts_when_the_policy_forbids_rollback(tmp_path):
    rig = Rig(tmp_path, marginal, policy=dataclasses.replace(POLICY, rollback_enabled=False))
    state = rig.run(rig.controller(inconclusive_after_s=6.0))
    assert state.phase is Phase.HALTED and state.weight == 10
    assert "manual action required" in state.reason


def test_a_new_canary_version_restarts_the_analysis_from_zero(tmp_path):
    rig = Rig(tmp_path, healthy)
    controller = rig.controller()
    while controller.step().weight < 30:
        rig.clock.sleep(0.25)
    state = controller.restart_analysis("new canary version v3")
    assert (state.phase, state.weight, state.pass_count) == (Phase.VERIFYING, 0, 0)
    assert rig.router.weights()["canary"] == 0
    final = rig.run(controller)
    assert final.phase is Phase.PROMOTED
    weights = rig.router.canary_weights
    assert weights[weights.index(30) + 1:][:3] == [0, 10, 30], "every step analysed anew"
    assert [e.details["reason"] for e in rig.events.of_kind("canary.restarted")] == [
        "new canary version v3"]
    with pytest.raises(CanaryStateError, match="cannot restart"):
        controller.restart_analysis("too late")


def test_a_few_unlucky_5xx_in_a_short_window_do_not_hold_the_step(tmp_path):
    from harness.analysis.window import Window
    from tests.unit.strategy.test_canary import FAST

    rig = Rig(tmp_path, healthy)

    def observe(start, end):  # three 5xx in every window: 6 % of 50, 0.6 % of 500
        n = 50 if end - start < POLICY.effective_stability_period_s else 500
        return Window(n, 3, (FAST * 10)[:n]), Window(500, 0, (FAST * 10)[:500])

    rig.observe = observe
    state = rig.run(rig.controller(min_window_s=0))  # samples as short as the interval
    assert state.phase is Phase.PROMOTED
    assert {s["verdict"] for s in state.samples} == {"marginal"}
    assert "PASS over the whole" in next(h["reason"] for h in state.history
                                         if h["to"] == "shifting" and h["weight"] == 10)


def test_a_sample_stretches_back_to_its_minimum_but_never_into_the_previous_weight(tmp_path):
    rig = Rig(tmp_path, healthy)
    state = rig.run(rig.controller(min_window_s=1.2))
    assert state.phase is Phase.PROMOTED
    shifts = [(h["ts"], h["weight"]) for h in state.history if h["to"] == "analysing"]
    for start, end, weight, _ in rig.observe.calls:
        step_start = max(ts for ts, _ in shifts if ts < end)
        assert start >= step_start, f"the sample at {weight} % reached into the weight before"
        assert end - start >= min(1.2, end - step_start) - 1e-9, "too short a sample"
    assert any(end - start > POLICY.effective_analysis_interval_s
               for start, end, *_ in rig.observe.calls), "no sample was stretched"
