"""Fault scenarios on the Iceberg side: the sentiment product's blue/green update with
its facts and view materialized as Iceberg tables, while the warehouse is full and while
the TaskManager running the committers is killed. No partial commit, no duplicate, no
row lost, and the right verdict.
"""

import pytest

from fixtures import factories
from fixtures.reference import sentiment_pipelines
from harness.faults.base import FaultSpec
from harness.strategy.fault_plan import WAREHOUSE

V1 = ["int_article_sentiment", "fct_ticker_sentiment", "v_sector_sentiment"]
GREEN = ["int_ticker_articles", "src_articles", "src_scores", "src_tickers"]
CHECKS = factories.CORE_CHECKS | {"v2:sink_parity", "faults:no_partial_commits"}


def _release(fault: FaultSpec):
    return factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                               to_ref="add_sentiment_label", iceberg_sinks=("fact", "view"),
                               faults=[fault])


full = _release(FaultSpec("disk", WAREHOUSE, "fill", at="plan_deploying", hold_s=6))
committer_killed = _release(FaultSpec("process", "flink-taskmanager", "kill",
                                      at="plan_deploying", hold_s=1))


@pytest.mark.disk_faults
def test_a_full_warehouse_while_v2_deploys_commits_nothing_partial(full):
    outcome = full.run()
    print("figures:", outcome.figures)
    filled = outcome.figures["faults"][0]
    assert filled["ballast_bytes"] > 0 and filled["free_after_bytes"] < 1 << 20, filled
    factories.assert_verified(outcome, redeployed=V1, green=GREEN, checks=CHECKS)


def test_the_committers_killed_mid_deploy_commit_each_row_once(committer_killed):
    outcome = committer_killed.run()
    print("figures:", outcome.figures)
    factories.assert_verified(outcome, redeployed=V1, green=GREEN, checks=CHECKS)
    assert "v2:no_duplicates(iceberg:fct_ticker_sentiment_v2)" in {
        c.name for c in outcome.checks if c.ok}
