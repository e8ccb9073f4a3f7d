"""Scenarios: canary of the inventory service, a service with no metrics endpoint.

What a team writes for its own service: two commands, its values file and root key, its
health path and request mix. The run is judged from HAProxy's counters and the load's
ledger alone.
"""

import sys
from pathlib import Path

from fixtures import factories

POLICIES = Path(__file__).parents[1] / "fixtures" / "policies"
SERVICE = f"{sys.executable} -m fixtures.services.inventory --port {{port}}"

healthy = factories.canary(
    stable=f"{SERVICE} --release v1", canary=f"{SERVICE} --release v2",
    values=POLICIES / "inventory-values.yaml", values_root="inventory.rollout",
    health="/healthz", requests=POLICIES / "inventory-requests.txt", name="inventory")


def test_metrics_source_down_aborts_and_never_promotes(healthy):
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: queries fail
    outcome = healthy.run(controller=healthy.controller(prometheus_url=dead))
    assert outcome.outcome == "aborted", outcome.summary()
    assert healthy.router.weights()["canary"] == 0
    assert healthy.deployer.slots["stable"].version == "stable"
    assert not outcome.failed, [c.summary for c in outcome.failed]
