"""Fault scenarios of a canary: what goes wrong while traffic moves, and the verdict.

The inventory service (no metrics endpoint: judged from HAProxy's counters and the
load's ledger) under the runbook's faults: a canary overloaded at 50 % rolls back there
with no request lost, an analysis that stays inconclusive pauses, a new canary version
during the analysis restarts it at 0 %, a promotion rolled back loses no request.
"""

import sys
from pathlib import Path

from fixtures import factories
from harness.deploy.target import VersionSpec

POLICIES = Path(__file__).parents[1] / "fixtures" / "policies"
SERVICE = f"{sys.executable} -m fixtures.services.inventory --port {{port}}"


def _canary(canary_flags: str = "", **options):
    return factories.canary(
        stable=f"{SERVICE} --release v1", canary=f"{SERVICE} --release v2 {canary_flags}",
        values=POLICIES / "inventory-values.yaml", values_root="inventory.rollout",
        health="/healthz", requests=POLICIES / "inventory-requests.txt", name="inventory",
        **options)


canary = _canary("--capacity-rps 36")
healthy = _canary()
# 3 % errors: above the promotion threshold, below the rollback one, on a few samples a
# window (MARGINAL); one stability period is 1 s, so a step is inconclusive after 10 s.
erratic = _canary("--error-rate 0.03 --seed 11", compression_factor=600)


def answered_every_request(outcome) -> None:
    answered = [c for c in outcome.checks if c.name == "canary_every_request_answered"]
    assert answered and all(c.ok for c in answered), [c.summary for c in answered]


def test_canary_overloaded_at_half_the_traffic_rolls_back_there(canary):
    outcome = canary.run()
    assert outcome.outcome == "rolled_back", outcome.summary()
    assert outcome.decided_at_weight == 50, outcome.summary()
    assert not outcome.failed, [c.summary for c in outcome.failed]
    answered_every_request(outcome)


def test_an_analysis_that_stays_inconclusive_pauses_then_follows_the_policy(erratic):
    outcome = erratic.run()
    phases = [h["to"] for h in outcome.state["history"]]
    assert "paused" in phases, phases
    assert outcome.outcome == "rolled_back", outcome.summary()  # rollback is enabled
    # the step where MARGINAL samples outlast the limit depends on the error draws
    assert outcome.decided_at_weight in (10, 30, 50, 75), outcome.summary()
    assert "inconclusive" in outcome.reason, outcome.reason
    assert erratic.router.weights()["canary"] == 0
    assert not outcome.failed, [c.summary for c in outcome.failed]


def test_a_new_canary_version_during_the_analysis_restarts_it(healthy):
    v3 = VersionSpec.parse(f"{SERVICE} --release v3", label="canary-v3")
    replaced = []

    def on_weight(weight):
        if weight == 30 and not replaced:
            replaced.append(weight)
            healthy.replace_canary(v3)

    outcome = healthy.run(on_weight=on_weight)
    assert outcome.outcome == "promoted", outcome.summary()
    assert [s["weight"] for s in outcome.steps][:4] == [0, 10, 30, 0], "back to 0 %"
    assert [s["weight"] for s in outcome.steps][4:9] == [10, 30, 50, 75, 100]
    assert healthy.deployer.slots["stable"].version == "canary-v3"
    assert not outcome.failed, [c.summary for c in outcome.failed]


def test_a_promotion_rolled_back_loses_no_request(healthy):
    assert healthy.run().outcome == "promoted"
    checks = healthy.rollback_promotion()
    assert all(c.ok for c in checks), [c.summary for c in checks]
    assert healthy.deployer.slots["stable"].version == "stable"
    assert healthy.deployer.slots["canary"].alive(), "the promoted version kept at 0 %"
