"""`cutover plan` on the reference data product (shift_left layout) and its change."""

import json

from fixtures.reference import SENTIMENT as PRODUCT_DIR
from fixtures.reference import product_repository
from harness.cli import main
from harness.pipeline import changed_tables_between, load_pipeline, plan_change

SOURCES = ["src_articles", "src_scores", "src_tickers"]


def test_reference_product_loads_as_a_dag_with_external_raw_topics():
    model = load_pipeline(PRODUCT_DIR)
    assert sorted(model.external) == ["raw_articles", "raw_scores", "raw_tickers"]
    assert model.tables["fct_ticker_sentiment"].parents == ("int_article_sentiment",
                                                            "int_ticker_articles")
    assert model.tables["v_sector_sentiment"].layer == "view"
    assert list(model.warnings) == []


def test_intermediate_change_redeploys_it_and_its_descendants(capsys):
    assert main(["plan", str(PRODUCT_DIR), "--changed", "int_article_sentiment",
                 "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [(r["table"], r["new_name"]) for r in plan["redeploy"]] == [
        ("int_article_sentiment", "int_article_sentiment_v2"),
        ("fct_ticker_sentiment", "fct_ticker_sentiment_v2"),
        ("v_sector_sentiment", "v_sector_sentiment_v2")]
    assert plan["unchanged"] == ["int_ticker_articles", *SOURCES]


def test_source_change_redeploys_everything_downstream_of_it():
    plan = plan_change(load_pipeline(PRODUCT_DIR), ["src_articles"])
    assert [r.table for r in plan.redeploy] == [
        "src_articles", "int_article_sentiment", "int_ticker_articles",
        "fct_ticker_sentiment", "v_sector_sentiment"]
    assert plan.unchanged == ["src_scores", "src_tickers"]


def test_branch_change_is_found_between_git_refs_and_renamed_in_sql(tmp_path):
    repo = product_repository(tmp_path, product=PRODUCT_DIR, changes=["add_sentiment_label"])
    model, changed = changed_tables_between(repo / "pipelines", "main", "add_sentiment_label")
    assert changed == ["int_article_sentiment"]
    plan = plan_change(model, changed)
    fact = next(r for r in plan.redeploy if r.table == "fct_ticker_sentiment")
    assert "INSERT INTO fct_ticker_sentiment_v2" in fact.dml
    assert "FROM int_article_sentiment_v2 i" in fact.dml
    assert "JOIN int_ticker_articles t" in fact.dml  # green parent keeps its name
    intermediate = plan.redeploy[0]
    assert "sentiment_label" in intermediate.dml
    assert "CREATE TABLE IF NOT EXISTS int_article_sentiment_v2" in intermediate.ddl
