"""Event time in the data plan: a source column under a WATERMARK advances with the records."""

import datetime as dt

import pytest

from harness.data.plan import DataPlanError, event_time_columns, plan_data
from harness.data.product import ProductData, advancing
from harness.data.schema import Column
from harness.pipeline.lineage import ProductLineage
from harness.pipeline.model import PipelineModel, TableStatement

RAW_ORDERS = """CREATE TABLE raw_orders (
  order_id STRING,
  amount DOUBLE,
  -- WATERMARK FOR amount AS amount: a comment, not a watermark
  order_ts TIMESTAMP(3),
  WATERMARK FOR order_ts AS order_ts - INTERVAL '5' SECOND
) WITH ('changelog.mode' = 'append', 'value.format' = 'json-registry');
"""
RAW_CLICKS = """CREATE TABLE raw_clicks (
  click_id STRING,
  `clicked_ms` BIGINT,
  `click_time` AS TO_TIMESTAMP_LTZ(`clicked_ms`, 3),
  WATERMARK FOR `click_time` AS `click_time` - INTERVAL '1' SECOND
) WITH ('changelog.mode' = 'append', 'value.format' = 'json-registry');
"""
SRC_ORDERS = """CREATE TABLE src_orders (order_id STRING, amount DOUBLE, order_ts TIMESTAMP(3),
  PRIMARY KEY (order_id) NOT ENFORCED) WITH ('changelog.mode' = 'upsert');"""
WINDOWS = """CREATE TABLE fct_minutes (window_start TIMESTAMP(3), orders BIGINT,
  PRIMARY KEY (window_start) NOT ENFORCED) WITH ('changelog.mode' = 'upsert');"""


def model(raw_ddl=RAW_ORDERS):
    return PipelineModel([
        TableStatement("raw_orders", "source", ddl=raw_ddl),
        TableStatement("src_orders", "source", ddl=SRC_ORDERS, parents=("raw_orders",),
                       dml="INSERT INTO src_orders SELECT order_id, amount, order_ts "
                           "FROM raw_orders WHERE amount > 0"),
        TableStatement("fct_minutes", "fact", ddl=WINDOWS, parents=("raw_orders",), dml=(
            "INSERT INTO fct_minutes SELECT window_start, COUNT(*) AS orders FROM TABLE("
            "TUMBLE(TABLE raw_orders, DESCRIPTOR(order_ts), INTERVAL '1' MINUTE)) "
            "GROUP BY window_start, window_end"))])


def planned(raw_ddl=RAW_ORDERS):
    pipeline = model(raw_ddl)
    return plan_data(pipeline, ProductLineage(pipeline), records=50)


def test_the_watermark_column_is_read_from_the_ddl_not_from_comments():
    assert event_time_columns(RAW_ORDERS, ["order_id", "amount", "order_ts"]) == ["order_ts"]
    assert event_time_columns(SRC_ORDERS, ["order_id", "amount", "order_ts"]) == []


def test_a_watermark_on_a_computed_column_advances_the_physical_column_under_it():
    assert event_time_columns(RAW_CLICKS, ["click_id", "clicked_ms"]) == ["clicked_ms"]


def test_the_plan_marks_the_event_time_and_the_windows_that_read_it():
    source = planned().source("raw_orders")
    assert source.event_time == ("order_ts",)
    assert source.windows == ("fct_minutes",)
    assert source.to_json()["event_time"] == ["order_ts"]
    text = planned().render_text()
    assert "order_ts: event time, advancing" in text
    assert "windowed by fct_minutes: the last window never closes" in text


def test_event_time_values_increase_with_the_record_sequence():
    plan = planned()
    data = ProductData(plan, bootstrap_servers="unused:9092", topic_of=lambda t: t, seed=7)
    stamps = [r["order_ts"] for r in data.next_records("raw_orders", 5)]
    assert stamps == ["2024-01-01 00:00:01.000", "2024-01-01 00:00:02.000",
                      "2024-01-01 00:00:03.000", "2024-01-01 00:00:04.000",
                      "2024-01-01 00:00:05.000"]
    assert data.next_record("raw_orders")["order_ts"] == "2024-01-01 00:00:06.000"
    assert all(r["amount"] > 0 for r in data.next_records("raw_orders", 20))


def test_epoch_millis_and_other_timestamp_types():
    millis = advancing(Column("clicked_ms", "BIGINT"))
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp() * 1000
    assert [millis(None, seq) for seq in (1, 2)] == [start + 1000, start + 2000]
    assert advancing(Column("ts", "TIMESTAMP_LTZ(3)"))(None, 61) == "2024-01-01 00:01:01.000Z"
    assert advancing(Column("ts", "TIMESTAMP(0)"))(None, 1) == "2024-01-01 00:00:01"
    with pytest.raises(DataPlanError, match="cannot hold an event time"):
        advancing(Column("ts", "DOUBLE"))


def test_a_watermark_on_a_type_that_cannot_advance_is_a_warning_and_no_event_time():
    plan = planned(RAW_ORDERS.replace("order_ts TIMESTAMP(3)", "order_ts DATE"))
    assert plan.source("raw_orders").event_time == ()
    assert plan.source("raw_orders").windows == ()
    assert any("cannot advance" in w and "raw_orders" in w for w in plan.warnings)


def test_without_a_watermark_times_stay_random_and_no_window_is_noted():
    plan = planned(RAW_ORDERS.replace(
        ",\n  WATERMARK FOR order_ts AS order_ts - INTERVAL '5' SECOND", ""))
    source = plan.source("raw_orders")
    assert source.event_time == () and source.windows == ()
    assert "event time" not in plan.render_text()
    data = ProductData(plan, bootstrap_servers="unused:9092", topic_of=str, seed=1)
    stamps = [r["order_ts"] for r in data.next_records("raw_orders", 5)]
    assert stamps != sorted(stamps)
