"""Scenarios: canary of the data tier (PostgreSQL → Iceberg reads), runbook §3.

Stable serves from PostgreSQL, the canary from Iceberg. Traffic moves 0 → 10 → 30 → 50 →
75 → 100 % through HAProxy while a load generator runs; the controller judges every
analysis interval from the router's counters and the load's ledger, and promotes, or
rolls back at once (canary weight 0, canary kept running for debugging).
"""

import httpx

from fixtures.canary import CANARY, PATHS, STABLE, faults_at


def test_stable_and_canary_answer_the_same_before_traffic_moves(canary_run):
    canary_run.deployer.deploy("canary")
    assert canary_run.router.weights()["canary"] == 0
    with httpx.Client(timeout=10) as client:
        for path in PATHS:
            stable = client.get(canary_run.deployer.slots["stable"].url + path).json()
            canary = client.get(canary_run.deployer.slots["canary"].url + path).json()
            assert stable == canary, path


def test_healthy_canary_is_promoted(canary_run):
    outcome = canary_run.run()
    assert outcome.outcome == "promoted", outcome.summary()
    assert [s["weight"] for s in outcome.steps] == [0, 10, 30, 50, 75, 100, 0]
    assert canary_run.deployer.slots["stable"].version == CANARY
    assert not outcome.failed, [c.summary for c in outcome.failed]
    reported = {o.reported for o in canary_run.load.snapshot() if o.reported}
    assert reported == {STABLE, CANARY}, "the service's own header agrees with the router"


def rolled_back_after_fault(run, scenario, *, at_weight, **faults):
    """Run the canary, switching ``faults`` on when it reaches ``at_weight``; it must roll
    back from that very step, to canary weight 0, with every check holding."""
    inject = faults_at(run, scenario, [{"at_weight": at_weight, "faults": faults}])
    outcome = run.run(on_weight=inject)
    assert outcome.outcome == "rolled_back", outcome.summary()
    assert outcome.decided_at_weight == at_weight, outcome.summary()
    assert outcome.summary().startswith(f"rolled back at {at_weight} %")
    assert run.router.weights()["canary"] == 0
    assert not outcome.failed, [c.summary for c in outcome.failed]
    return outcome


def test_canary_failing_at_10_percent_rolls_back_and_is_kept(canary_run, scenario):
    rolled_back_after_fault(canary_run, scenario, at_weight=10, error_rate=0.3)
    assert canary_run.deployer.slots["canary"].alive(), "kept for debugging"
    failures = [o for o in canary_run.load.snapshot() if not o.ok]
    assert all(o.version == CANARY for o in failures), "only the injected faults failed"


def test_canary_slowing_at_50_percent_rolls_back(canary_run, scenario):
    rolled_back_after_fault(canary_run, scenario, at_weight=50, added_latency_ms=800)
    assert canary_run.deployer.slots["stable"].version == STABLE


def test_metrics_source_down_never_promotes_and_aborts(canary_run):
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: queries fail
    outcome = canary_run.run(controller=canary_run.controller(prometheus_url=dead))
    assert outcome.outcome == "aborted", outcome.summary()
    assert outcome.state["failed_queries"] >= 3
    assert canary_run.router.weights()["canary"] == 0
    assert canary_run.deployer.slots["stable"].version == STABLE
