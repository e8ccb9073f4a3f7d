"""Scenarios: canary of the data tier (PostgreSQL → Iceberg reads), runbook §3.

Stable serves from PostgreSQL, the canary from Iceberg. Traffic moves 0 → 10 → 30 → 50 →
75 → 100 % through HAProxy while a load generator runs; the controller judges every
analysis interval from Prometheus and promotes, or rolls back at once (canary weight 0,
canary kept running for debugging).
"""

import time

import httpx

from fixtures.canary import CANARY, PATHS, STABLE
from harness.strategy.canary import TERMINAL, Phase
from harness.wait import wait_until


def drive(controller, *, on_weight=None, timeout_s=120):
    """Step the controller until it ends; ``on_weight(weight)`` runs once per new weight."""
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = controller.step()
        if state.weight not in seen:
            seen.append(state.weight)
            if on_weight:
                on_weight(state.weight)
        if state.phase in TERMINAL:
            return state, seen
        time.sleep(0.2)
    raise AssertionError(f"controller still {state.phase} at {state.weight} % "
                         f"after {timeout_s} s")


def requests_after(run, ts, count=50):
    """The load's next ``count`` requests sent a second after ``ts``."""
    wait_until(lambda: None if len(run.load.snapshot(since=ts + 1)) >= count else "sending",
               timeout_s=30, what=f"{count} requests after the last phase change")
    return run.load.snapshot(since=ts + 1)


def test_stable_and_canary_answer_the_same_before_traffic_moves(canary_run):
    canary_run.deployer.deploy("canary", CANARY)
    assert canary_run.router.weights()["canary"] == 0
    with httpx.Client(timeout=10) as client:
        for path in PATHS:
            stable = client.get(canary_run.deployer.slots["stable"].url + path).json()
            canary = client.get(canary_run.deployer.slots["canary"].url + path).json()
            assert stable == canary, path


def test_healthy_canary_is_promoted(canary_run):
    state, weights = drive(canary_run.controller())
    assert state.phase == Phase.PROMOTED
    assert weights == [0, 10, 30, 50, 75, 100]
    assert canary_run.router.weights() == {"stable": 100, "canary": 0}
    assert canary_run.deployer.slots["stable"].version == CANARY
    after = requests_after(canary_run, state.history[-1]["ts"])
    assert after and all(o.version == CANARY for o in after), "all traffic on the new stable"
    assert all(o.ok for o in canary_run.load.snapshot()), "no request failed"


def rolled_back_after_fault(run, *, at_weight, **faults):
    """Drive a canary run, switching ``faults`` on when the canary reaches ``at_weight``;
    it must roll back from that very step, to canary weight 0."""
    inject = run.faults_at([{"at_weight": at_weight, "faults": faults}])
    state, weights = drive(run.controller(), on_weight=inject)
    run.check_rollback()
    assert state.phase == Phase.ROLLED_BACK
    assert max(weights) == at_weight
    assert run.router.weights()["canary"] == 0
    return state


def test_canary_failing_at_10_percent_rolls_back_and_is_kept(canary_run):
    state = rolled_back_after_fault(canary_run, at_weight=10, error_rate=0.3)
    canary = canary_run.deployer.slots["canary"]
    assert canary.process.alive(), "the failed canary is kept for debugging"
    after = requests_after(canary_run, state.history[-1]["ts"])
    assert after and not [o for o in after if o.version == CANARY]
    failures = [o for o in canary_run.load.snapshot() if not o.ok]
    assert all(o.version == CANARY for o in failures), "only the injected faults failed"


def test_canary_slowing_at_50_percent_rolls_back(canary_run):
    rolled_back_after_fault(canary_run, at_weight=50, added_latency_ms=800)
    assert canary_run.deployer.slots["stable"].version == STABLE


def test_metrics_source_down_never_promotes_and_aborts(canary_run):
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: queries fail
    state, _weights = drive(canary_run.controller(prometheus_url=dead))
    assert state.phase == Phase.ABORTED
    assert state.failed_queries >= 3
    assert canary_run.router.weights()["canary"] == 0
    assert canary_run.deployer.slots["stable"].version == STABLE
