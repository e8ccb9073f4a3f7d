"""Every blue/green check is proven to fail: real mutants of the reference product run on
the stack, and the right check fails with evidence, right after the data settles.

Checks are not recorded with the scenario here (a failed one would fail the test); the
test asserts on the outcome instead.
"""

from fixtures import factories
from fixtures.reference import sentiment_pipelines


def failed(outcome):
    return {c.name: c for c in outcome.failed}


def restart_a_green_statement(run):
    """What a careless deploy tool does: cancel a green statement and submit it again."""
    run.deployer.stop("src_tickers")
    run.deployer.submit(run.prepared.v1, "src_tickers", version="v1", reason="mutant restart")


def keep_v1_running_at_promotion(run):
    """A promotion that switches consumers but never stops the replaced v1 statements."""
    run.deployer._retire = lambda name: None


def forget_to_switch_back(run):
    """A rollback after promotion that leaves consumers reading v2."""
    switch = run.deployer.serving.set
    run.deployer.serving.set = lambda switches, *, reason: (
        None if reason == "rolled back" else switch(switches, reason=reason))


drops_rows = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                                 to_ref="mutant_drops_rows", then="rollback",
                                 record_checks=False)
key_encoding = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                                   to_ref="mutant_key_encoding", then="rollback",
                                   record_checks=False)
append_duplicates = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                                        to_ref="mutant_append_duplicates", then="rollback",
                                        record_checks=False)
restarts_green = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                                     to_ref="add_sentiment_label", then="rollback",
                                     record_checks=False,
                                     hooks={"plan_deploying": restart_a_green_statement})


keeps_v1 = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                               to_ref="add_sentiment_label", then="promote",
                               record_checks=False,
                               hooks={"checked": keep_v1_running_at_promotion})
no_switch_back = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                                     to_ref="add_sentiment_label", then="promote-rollback",
                                     record_checks=False,
                                     hooks={"promoted": forget_to_switch_back})
new_column_missing = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                                         to_ref="mutant_new_column_missing", then="rollback",
                                         record_checks=False)


def test_a_v2_that_drops_rows_fails_nothing_lost_and_parity_with_the_missing_keys(drops_rows):
    outcome = drops_rows.run()
    fails = failed(outcome)
    lost = fails["v2:nothing_lost(int_article_sentiment_v2)"]
    assert lost.evidence["missing"] > 0
    assert lost.evidence["examples"] and all(k.endswith("7") for k in lost.evidence["examples"])
    assert "v1 promises" in lost.evidence["compared"] or "in v1" in lost.evidence["compared"]
    only_v1 = fails["v1_v2:parity(int_article_sentiment)"].evidence["only_v1"]
    assert only_v1 and all(k.endswith("7") for k in only_v1)
    assert not any(name.startswith("v1:") for name in fails)  # v1 itself is fine
    assert outcome.figures["last_input_to_verdict_s"] < 30


def test_a_v2_with_another_key_encoding_fails_same_key_encoding(key_encoding):
    outcome = key_encoding.run()
    fails = failed(outcome)
    assert set(fails) == {"v1_v2:same_key_encoding(int_article_sentiment, "
                          "int_article_sentiment_v2)"}, list(fails)
    example = fails[next(iter(fails))].evidence["examples"][0]
    assert example["v1"].startswith("b'{") and not example["v2"].startswith("b'{")


def test_a_v2_writing_duplicates_into_an_append_sink_fails_no_duplicates(append_duplicates):
    outcome = append_duplicates.run()
    fails = failed(outcome)
    dupes = fails["v2:no_duplicates(src_scores_v2)"]
    assert dupes.evidence["duplicated_keys"] > 0 and dupes.evidence["examples"]
    assert "append rows" in dupes.evidence["compared"]


def test_a_change_that_restarts_a_green_statement_fails_green_untouched(restarts_green):
    outcome = restarts_green.run()
    fails = failed(outcome)
    problems = fails["v2:green_untouched"].evidence["problems"]
    assert any(p.startswith("src_tickers:") for p in problems), problems


def test_a_promotion_that_leaves_v1_running_fails_promoted(keeps_v1):
    outcome = keeps_v1.run()
    fails = failed(outcome)
    assert set(fails) == {"promoted:promoted"}, list(fails)
    still = fails["promoted:promoted"].evidence["still_running"]
    assert set(still) == {"int_article_sentiment", "fct_ticker_sentiment",
                          "v_sector_sentiment"}, still


def test_a_rollback_that_does_not_switch_consumers_back_fails_rolled_back(no_switch_back):
    outcome = no_switch_back.run()
    fails = failed(outcome)
    assert set(fails) == {"rolled_back:rolled_back"}, list(fails)
    wrong = fails["rolled_back:rolled_back"].evidence["served_wrongly"]
    assert wrong == {"int_article_sentiment": "int_article_sentiment_v2",
                     "fct_ticker_sentiment": "fct_ticker_sentiment_v2",
                     "v_sector_sentiment": "v_sector_sentiment_v2"}


def test_a_new_column_v2_never_writes_fails_new_columns_present(new_column_missing):
    outcome = new_column_missing.run()
    fails = failed(outcome)
    assert set(fails) == {"v1_v2:new_columns_present(int_article_sentiment_v2)"}, list(fails)
    evidence = fails["v1_v2:new_columns_present(int_article_sentiment_v2)"].evidence
    assert evidence["lacking"] == {"sentiment_label": evidence["rows"]} and evidence["examples"]


flink_refuses = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                                    to_ref="mutant_flink_refuses", then="rollback",
                                    record_checks=False)


def test_sql_flink_refuses_stops_the_run_before_anything_is_deployed(flink_refuses, kafka):
    from confluent_kafka.admin import AdminClient

    outcome = flink_refuses.run()
    assert (outcome.phase, outcome.to_json()["outcome"]) == ("refused", "refused")
    (check,) = outcome.checks
    assert check.name == "preflight:flink_accepts_sql" and not check.ok, check
    (problem,) = check.evidence["problems"]
    assert (problem["statement"], problem["version"]) == ("int_article_sentiment_v2", "v2")
    assert problem["location"].endswith("dml.int_article_sentiment.sql:5"), problem
    assert "CONFLUENT_ONLY_SCORE" in problem["message"], problem
    assert "first: " in check.summary and "Fix the SQL" in check.summary
    assert not flink_refuses.deployer.statements, "no statement was started"
    prefix = flink_refuses.deployer.target.topic_prefix
    topics = AdminClient({"bootstrap.servers": kafka.bootstrap_servers}).list_topics(
        timeout=10).topics
    assert not [t for t in topics if t.startswith(prefix)], "no topic was created"


widened_key = factories.bluegreen(pipelines=sentiment_pipelines, from_ref="main",
                                  to_ref="mutant_widened_key", then="rollback",
                                  iceberg_sinks=("fact",), record_checks=False)


def test_a_v2_widening_its_key_fails_no_duplicates_by_the_key_consumers_read(widened_key):
    outcome = widened_key.run()
    checks = {c.name: c for c in outcome.checks}
    # by its own key (ticker_id, source) the widened Iceberg fact holds no duplicate...
    assert checks["v2:no_duplicates(iceberg:fct_ticker_sentiment_v2)"].ok
    # ...by the key its consumers read it with, it holds one row per ticker and source
    widened = checks["v2:no_duplicates_by_v1_key(iceberg:fct_ticker_sentiment_v2)"]
    assert not widened.ok, widened.summary
    assert widened.evidence["duplicated_keys"] > 0 and widened.evidence["examples"]
    assert (widened.evidence["v1_key"], widened.evidence["v2_key"]) == (
        ["ticker_id"], ["ticker_id", "source"])
    assert not checks["v2:no_duplicates_by_v1_key(fct_ticker_sentiment_v2)"].ok, "Kafka too"
    assert not any(name.startswith("v1:") and not c.ok for name, c in checks.items())
