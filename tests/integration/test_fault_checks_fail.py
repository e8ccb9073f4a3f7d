"""The checks only faults make meaningful are proven to fail on real violations: a
pipeline reading uncommitted records sees the aborted transaction, and a committed
Iceberg data file cut short is a partial commit.
"""

from pathlib import Path

import pytest

from fixtures import factories
from fixtures.reference import (
    ORDERS,
    RAW_ORDERS_DDL,
    orders_pipelines,
    product_repository,
    sentiment_pipelines,
    with_options,
)
from harness.faults.base import FaultSpec
from harness.flink.settle import SettleTimeout
from harness.iceberg import committed_files
from harness.strategy.fault_checks import no_partial_commits


def orders_reading_uncommitted(tmp_path):
    """The orders product whose raw_orders source reads uncommitted records (the mutant
    option a team could set by mistake), on main and on its branch."""
    product = with_options(tmp_path, product=ORDERS, ddl=RAW_ORDERS_DDL,
                           options="'kafka.consumer.isolation-level' = 'read-uncommitted'")
    return product_repository(tmp_path, product=product,
                              changes=["orders_add_channel"]) / "pipelines"


dirty_reads = factories.bluegreen(
    pipelines=orders_reading_uncommitted, from_ref="main", to_ref="orders_add_channel",
    record_checks=False,
    faults=[FaultSpec("data", "raw_orders", "abort", at="plan_deploying",
                      params={"count": 15})])
poisoned = factories.bluegreen(
    pipelines=orders_pipelines, from_ref="main", to_ref="orders_add_channel",
    record_checks=False, settle_timeout_s=60,
    faults=[FaultSpec("data", "raw_orders", "poison", at="plan_deploying",
                      params={"count": 5})])
committed = factories.bluegreen(
    pipelines=sentiment_pipelines, from_ref="main", to_ref="add_sentiment_label",
    iceberg_sinks=("fact",), record_checks=False)


def test_a_source_reading_uncommitted_records_fails_no_aborted_reads(dirty_reads):
    outcome = dirty_reads.run()
    check = next(c for c in outcome.checks if c.name.startswith("faults:no_aborted_reads"))
    assert not check.ok, check.summary
    found = check.evidence["aborted_keys_found"]
    assert "src_orders" in found, found  # the source statement passed them on
    assert check.evidence["transactional_id"].startswith("cutover-fault-")


def test_poison_pills_in_a_source_that_fails_on_bad_records_stop_the_run_with_the_cause(
        poisoned):
    """The reference orders product keeps Confluent's default ('error-handling.mode' =
    'fail'): its source statement dies on the first poison pill, and the run says so."""
    with pytest.raises(SettleTimeout, match=r"src_orders") as caught:
        poisoned.run()
    assert "did not settle" in str(caught.value)


def test_a_committed_data_file_cut_short_fails_no_partial_commits(committed):
    outcome = committed.run()
    assert outcome.ok, [c.summary for c in outcome.failed]
    intact = no_partial_commits(committed)
    assert intact.ok, intact.summary
    table = committed.sinks.catalog().load_table(
        committed.sinks.identifier("fct_ticker_sentiment_v2"))
    victim = Path(committed_files(table)[0][0])
    with victim.open("r+b") as data:  # what a writer out of space leaves, committed
        data.truncate(victim.stat().st_size // 2)
    broken = no_partial_commits(committed)
    assert not broken.ok
    assert any(victim.name in line for line in broken.evidence["broken"]), broken.evidence
