"""Scenarios: canary of the inventory service, a service with no metrics endpoint.

What a team writes for its own service: two commands, its values file and root key, its
health path and request mix. The run is judged from HAProxy's counters and the load's
ledger alone.
"""

import sys
from pathlib import Path

from fixtures import factories
from harness.deploy.target import VersionSpec

POLICIES = Path(__file__).parents[1] / "fixtures" / "policies"
SERVICE = f"{sys.executable} -m fixtures.services.inventory --port {{port}}"

canary = factories.canary(
    stable=f"{SERVICE} --release v1", canary=f"{SERVICE} --release v2 --capacity-rps 36",
    values=POLICIES / "inventory-values.yaml", values_root="inventory.rollout",
    health="/healthz", requests=POLICIES / "inventory-requests.txt", name="inventory")


def test_canary_overloaded_at_half_the_traffic_rolls_back_there(canary):
    outcome = canary.run()
    assert outcome.outcome == "rolled_back", outcome.summary()
    assert outcome.decided_at_weight == 50, outcome.summary()
    assert not outcome.failed, [c.summary for c in outcome.failed]


healthy = factories.canary(
    stable=f"{SERVICE} --release v1", canary=f"{SERVICE} --release v2",
    values=POLICIES / "inventory-values.yaml", values_root="inventory.rollout",
    health="/healthz", requests=POLICIES / "inventory-requests.txt", name="inventory")


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


def test_metrics_source_down_aborts_and_never_promotes(healthy):
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: queries fail
    outcome = healthy.run(controller=healthy.controller(prometheus_url=dead))
    assert outcome.outcome == "aborted", outcome.summary()
    assert healthy.router.weights()["canary"] == 0
    assert healthy.deployer.slots["stable"].version == "stable"
    assert not outcome.failed, [c.summary for c in outcome.failed]
