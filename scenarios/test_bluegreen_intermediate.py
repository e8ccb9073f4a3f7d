"""Scenario: blue/green update of an intermediate statement (runbook, Fig. 4).

The sentiment product runs at ``main``; the branch ``add_sentiment_label`` changes one
intermediate statement. cutover deploys ``main``, feeds it synthetic data planned from
its SQL and checks that it reached every sink; deploys the plan (the changed statement
and every descendant as v2) beside it while data keeps flowing and the green statements
are watched; settles; checks every sink of v1 and v2, the facts and the view also as the
Iceberg upsert tables their sink connectors write; then ends the runbook's three ways.
"""

import pytest

from fixtures import factories
from fixtures.reference import sentiment_pipelines

V1 = ["int_article_sentiment", "fct_ticker_sentiment", "v_sector_sentiment"]
GREEN = ["int_ticker_articles", "src_articles", "src_scores", "src_tickers"]

release = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                              to_ref="add_sentiment_label", iceberg_sinks=("fact", "view"))


@pytest.mark.parametrize("release", ["promote", "rollback", "promote-rollback"],
                         indirect=True)
def test_intermediate_update(release):
    outcome = release.run()

    factories.assert_verified(outcome, redeployed=V1, green=GREEN,
                              checks=factories.CORE_CHECKS | {"v2:sink_parity"})
    assert "v2:no_duplicates(iceberg:fct_ticker_sentiment_v2)" in {c.name for c in outcome.checks}
