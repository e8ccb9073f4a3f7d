"""The orders reference product, prepared without a stack: plan, key links, data plan."""

import pytest

from fixtures.reference import orders_pipelines
from harness.pipeline.lineage import ColumnRef
from harness.strategy.bluegreen_checks import expectations_text
from harness.strategy.bluegreen_setup import BlueGreenSpec, prepare


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    pipelines = orders_pipelines(tmp_path_factory.mktemp("repo"))
    return prepare(BlueGreenSpec(pipelines=pipelines, from_ref="main",
                                 to_ref="orders_add_channel"))


def test_the_change_redeploys_the_intermediate_and_its_descendants(prepared):
    assert prepared.changed == ["int_order_payments"]
    assert [(r.table, r.new_name, r.reason) for r in prepared.plan.redeploy] == [
        ("int_order_payments", "int_order_payments_v2", "changed"),
        ("fct_customer_orders", "fct_customer_orders_v2",
         "reads int_order_payments (redeployed)"),
        ("v_customer_overview", "v_customer_overview_v2",
         "reads fct_customer_orders (redeployed)")]
    assert prepared.plan.unchanged == ["dim_customers", "fct_customer_windows",
                                       "src_customers", "src_orders", "src_payments"]
    assert prepared.plan.external == ["raw_customers", "raw_orders", "raw_payments"]
    assert prepared.v1.tables["dim_customers"].layer == "dimension"
    assert not prepared.warnings


def test_key_links_follow_the_joins(prepared):
    links = {(k.child, k.parent) for k in prepared.lineage_v1.key_links()}
    assert links == {
        (ColumnRef("raw_payments", "order_id"), ColumnRef("raw_orders", "order_id")),
        (ColumnRef("raw_orders", "customer_id"), ColumnRef("raw_customers", "customer_id"))}


def test_the_data_plan_seeds_parents_first_with_a_dedup_source_and_event_time(prepared):
    data = prepared.data
    assert [(s.table, s.key, s.count) for s in data.sources] == [
        ("raw_customers", "customer_id", 16), ("raw_orders", "order_id", 100),
        ("raw_payments", "payment_id", 600)]
    assert data.source("raw_customers").duplicates_pct == 10.0
    assert data.source("raw_orders").references == {
        "customer_id": ColumnRef("raw_customers", "customer_id")}
    assert data.source("raw_orders").event_time == ("order_ts",)
    assert data.source("raw_orders").windows == ("fct_customer_windows",)
    assert data.leaves == ["raw_payments"]
    text = data.render_text()
    assert "channel: values pass in web, store, app" in text
    assert "order_ts: event time, advancing" in text


def test_expectations_follow_the_outer_joins_and_the_window(prepared):
    why = expectations_text(prepared)
    assert why["int_order_payments"].startswith("every acknowledged raw_orders.order_id")
    assert why["fct_customer_orders"].startswith("every acknowledged raw_customers.customer_id")
    assert "parity with v1" in why["fct_customer_windows"]
    assert "aggregates over windows" in why["v_customer_overview"]
