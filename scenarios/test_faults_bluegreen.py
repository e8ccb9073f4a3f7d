"""Fault scenarios: a blue/green update of the orders product under infrastructure and
data faults, with nothing lost, no duplicates where consumers read, and the right verdict.

Each case injects its fault at a phase of the same runbook (``at``): while v2 deploys
under the live feed (``plan_deploying``), or beside the switch (``checked``, in the
background). The checks of the plain run are the oracle; restarts a fault causes are
excused from ``green_untouched`` and reported as such, never the deployment's doing.
"""

import pytest

from fixtures import factories
from fixtures.reference import orders_logging_bad_records, orders_pipelines
from harness.faults.base import FaultSpec

V1 = ["int_order_payments", "fct_customer_orders", "v_customer_overview"]
GREEN = ["dim_customers", "fct_customer_windows", "src_customers", "src_orders",
         "src_payments"]

CASES = {
    "broker-killed-during-the-v2-deploy": FaultSpec(
        "process", "kafka", "kill", at="plan_deploying", hold_s=3),
    "broker-restarted-during-the-switch": FaultSpec(
        "process", "kafka", "restart", at="checked", hold_s=2, params={"background": True}),
    "broker-paused-across-checkpoints": FaultSpec(
        "process", "kafka", "pause", at="plan_deploying", hold_s=5),
    "taskmanager-killed-mid-bluegreen": FaultSpec(
        "process", "flink-taskmanager", "kill", at="plan_deploying", hold_s=2),
    "duplicate-source-events": FaultSpec(
        "data", "raw_payments", "duplicate", at="plan_deploying", params={"count": 40}),
    "producer-killed-mid-transaction": FaultSpec(
        "data", "raw_orders", "abort", at="plan_deploying", params={"count": 25}),
}


def _release(fault: FaultSpec):
    return factories.bluegreen(pipelines=orders_pipelines, from_ref="main",
                               to_ref="orders_add_channel", faults=[fault])


broker_killed = _release(CASES["broker-killed-during-the-v2-deploy"])
broker_restarted = _release(CASES["broker-restarted-during-the-switch"])
broker_paused = _release(CASES["broker-paused-across-checkpoints"])
taskmanager_killed = _release(CASES["taskmanager-killed-mid-bluegreen"])
duplicated = _release(CASES["duplicate-source-events"])
aborted = _release(CASES["producer-killed-mid-transaction"])
poisoned = factories.bluegreen(
    pipelines=orders_logging_bad_records, from_ref="main", to_ref="orders_add_channel",
    faults=[FaultSpec("data", "raw_orders", "poison", at="plan_deploying",
                      params={"count": 12})])


def verified_under_fault(outcome) -> None:
    print("figures:", outcome.figures)
    assert outcome.figures["faults_injected"] == 1, outcome.figures
    factories.assert_verified(outcome, redeployed=V1, green=GREEN)


def test_a_broker_killed_while_v2_deploys_loses_nothing(broker_killed):
    verified_under_fault(broker_killed.run())


def test_a_broker_restarted_during_the_switch_still_promotes(broker_restarted):
    outcome = broker_restarted.run()
    verified_under_fault(outcome)
    assert "promoted:promoted" in {c.name for c in outcome.checks if c.ok}


def test_a_broker_paused_across_checkpoints_loses_nothing(broker_paused):
    verified_under_fault(broker_paused.run())


def test_a_taskmanager_killed_mid_bluegreen_recovers_from_its_checkpoints(
        taskmanager_killed):
    outcome = taskmanager_killed.run()
    verified_under_fault(outcome)
    green = next(c for c in outcome.checks if c.name == "v2:green_untouched")
    assert green.evidence["excused_by_faults"], "the kill restarted the green jobs"


def test_duplicate_source_events_leave_one_row_per_key(duplicated):
    outcome = duplicated.run()
    verified_under_fault(outcome)
    assert outcome.figures["faults"][0]["duplicated"] == 40


def test_a_producer_killed_mid_transaction_is_never_read(aborted):
    outcome = aborted.run()
    verified_under_fault(outcome)
    reads = [c for c in outcome.checks if c.name.startswith("faults:no_aborted_reads")]
    assert reads and all(c.ok for c in reads), [c.summary for c in reads]
    assert reads[0].evidence["tables"], "tables keyed by raw_orders were checked"


def test_poison_pills_are_counted_as_dead_letters_and_the_pipeline_lives(poisoned):
    """raw_orders says 'error-handling.mode' = 'log': its bad records are skipped."""
    outcome = poisoned.run()
    verified_under_fault(outcome)
    dead = next(c for c in outcome.checks if c.name.startswith("faults:dead_letters_counted"))
    assert dead.evidence["dead_letters"] == 12, dead.evidence


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_case_is_a_replayable_spec(name):
    assert type(CASES[name]).from_json(CASES[name].to_json()) == CASES[name]
