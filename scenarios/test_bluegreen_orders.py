"""Scenario: blue/green update of the orders product, a second shape of the same runbook.

The orders product runs at ``main``: a dedup source, a dimension, an outer join, a fact
over event-time windows and a view joining two facts. The branch ``orders_add_channel``
adds the sales channel to one intermediate; cutover redeploys it and its descendants
beside v1 while the dimension and the windowed fact stay green, checks every sink of v1
and v2, then ends the runbook's three ways.
"""

import pytest

from fixtures import factories
from fixtures.reference import orders_pipelines

V1 = ["int_order_payments", "fct_customer_orders", "v_customer_overview"]
GREEN = ["dim_customers", "fct_customer_windows", "src_customers", "src_orders",
         "src_payments"]

release = factories.bluegreen(pipelines=orders_pipelines, from_ref="main",
                              to_ref="orders_add_channel")


@pytest.mark.parametrize("release", ["promote", "rollback", "promote-rollback"],
                         indirect=True)
def test_orders_update(release):
    outcome = release.run()
    print("figures:", outcome.figures)

    factories.assert_verified(outcome, redeployed=V1, green=GREEN)
