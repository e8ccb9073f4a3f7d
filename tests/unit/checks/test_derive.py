"""Checks derived from the model: what the ledger can predict, which columns changed."""

import pytest

from fixtures.reference import sentiment_pipelines
from harness.checks.derive import changed_columns, expectation
from harness.strategy.bluegreen_setup import BlueGreenSpec, prepare


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory):
    return sentiment_pipelines(tmp_path_factory.mktemp("repo"))


def prepared(pipelines, to_ref):
    return prepare(BlueGreenSpec(pipelines=pipelines, from_ref="main", to_ref=to_ref))


def test_a_key_copied_from_a_source_key_is_expected_from_the_ledger(pipelines):
    run = prepared(pipelines, "add_sentiment_label")
    expect = expectation(run.v1, run.lineage_v1, "int_article_sentiment")
    assert expect.expect_from == "raw_scores" and expect.key == ["score_id"]


def test_aggregated_keys_say_what_cannot_be_expected(pipelines):
    run = prepared(pipelines, "add_sentiment_label")
    expect = expectation(run.v1, run.lineage_v1, "v_sector_sentiment")
    assert expect.expect_from is None and "parity with v1" in expect.why


def test_an_opaque_filter_blocks_the_exact_expectation_and_names_it(pipelines):
    run = prepared(pipelines, "mutant_drops_rows")
    expect = expectation(run.v2, run.lineage_v2, "int_article_sentiment")
    assert expect.expect_from is None
    assert "NOT LIKE" in expect.why and "int_article_sentiment" in expect.why


def test_changed_columns_follow_the_changed_expression_only(pipelines):
    run = prepared(pipelines, "add_sentiment_label")
    assert changed_columns(run.v1, run.plan) == {
        "int_article_sentiment": {"sentiment_label"}, "fct_ticker_sentiment": set(),
        "v_sector_sentiment": set()}


def test_the_data_plan_draws_children_from_parents_and_resends_dedup_events(pipelines):
    data = prepared(pipelines, "add_sentiment_label").data
    assert [s.table for s in data.sources] == ["raw_tickers", "raw_articles", "raw_scores"]
    scores = data.source("raw_scores")
    assert scores.references["article_id"].table == "raw_articles"
    assert [p.op for p in scores.predicates["score"]] == ["between"]
    assert data.source("raw_tickers").duplicates_pct > 0
    assert data.leaves == ["raw_scores"]
    assert "article_id from raw_articles.article_id" in data.render_text()


def test_an_inner_join_where_the_key_source_is_the_parent_says_so(tmp_path):
    from harness.pipeline.lineage import ProductLineage
    from harness.pipeline.loader import load_pipeline

    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "raw.sql").write_text(
        "CREATE TABLE raw_customers (customer_id STRING, name STRING) WITH ('changelog.mode'"
        " = 'append');\nCREATE TABLE raw_orders (order_id STRING, customer_id STRING, "
        "amount DOUBLE) WITH ('changelog.mode' = 'append');\n")
    (folder / "src.sql").write_text(
        "CREATE TABLE src_customers (customer_id STRING, name STRING, PRIMARY KEY "
        "(customer_id) NOT ENFORCED) WITH ('changelog.mode' = 'upsert');\n"
        "INSERT INTO src_customers SELECT customer_id, name FROM raw_customers;\n")
    (folder / "fct.sql").write_text(
        "CREATE TABLE fct (customer_id STRING, orders BIGINT, PRIMARY KEY (customer_id) NOT "
        "ENFORCED) WITH ('changelog.mode' = 'upsert');\n"
        "INSERT INTO fct SELECT c.customer_id, COUNT(o.order_id) FROM src_customers c "
        "{join} raw_orders o ON c.customer_id = o.customer_id GROUP BY c.customer_id;\n")
    fct = (folder / "fct.sql").read_text()
    (folder / "fct.sql").write_text(fct.replace("{join}", "JOIN"))
    model = load_pipeline(folder)
    inner = expectation(model, ProductLineage(model), "fct")
    assert inner.expect_from is None and "inner-joins raw_customers" in inner.why
    (folder / "fct.sql").write_text(fct.replace("{join}", "LEFT JOIN"))
    model = load_pipeline(folder)
    assert expectation(model, ProductLineage(model), "fct").expect_from == "raw_customers"
