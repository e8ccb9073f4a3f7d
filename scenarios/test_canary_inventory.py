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

canary = factories.canary(
    stable=f"{SERVICE} --release v1", canary=f"{SERVICE} --release v2 --capacity-rps 36",
    values=POLICIES / "inventory-values.yaml", values_root="inventory.rollout",
    health="/healthz", requests=POLICIES / "inventory-requests.txt", name="inventory")


def test_canary_overloaded_at_half_the_traffic_rolls_back_there(canary):
    outcome = canary.run()
    assert outcome.outcome == "rolled_back", outcome.summary()
    assert outcome.decided_at_weight == 50, outcome.summary()
    assert not outcome.failed, [c.summary for c in outcome.failed]
