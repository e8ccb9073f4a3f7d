"""Fault scenarios on the network between Flink and Kafka (Toxiproxy's ``flink-kafka``
proxy): the blue/green update of the orders product while every statement's
connections are slowed, then cut, with nothing lost and the right verdict.
"""

import pytest

from fixtures import factories
from fixtures.reference import orders_pipelines
from harness.faults.base import FaultSpec
from harness.faults.toxiproxy import FLINK_KAFKA

pytestmark = pytest.mark.network_faults

V1 = ["int_order_payments", "fct_customer_orders", "v_customer_overview"]
GREEN = ["dim_customers", "fct_customer_windows", "src_customers", "src_orders",
         "src_payments"]


def _release(*faults: FaultSpec):
    return factories.bluegreen(pipelines=orders_pipelines, from_ref="main",
                               to_ref="orders_add_channel", faults=list(faults))


delayed = _release(FaultSpec("network", FLINK_KAFKA, "latency", at="plan_deploying",
                             hold_s=8, params={"latency_ms": 400, "jitter_ms": 100}))
cut = _release(FaultSpec("network", FLINK_KAFKA, "down", at="plan_deploying", hold_s=5),
               FaultSpec("network", FLINK_KAFKA, "reset", at="plan_deploying", hold_s=3))


def test_latency_between_flink_and_kafka_while_v2_deploys_loses_nothing(delayed):
    outcome = delayed.run()
    print("figures:", outcome.figures)
    assert outcome.figures["faults"][0]["toxic"] == "latency"
    factories.assert_verified(outcome, redeployed=V1, green=GREEN)


def test_connections_cut_then_reset_between_flink_and_kafka_lose_nothing(cut):
    outcome = cut.run()
    print("figures:", outcome.figures)
    assert outcome.figures["faults_injected"] == 2
    factories.assert_verified(outcome, redeployed=V1, green=GREEN)
