"""Column lineage, key links, statement shapes and inferred columns of pipelines."""

import time
from dataclasses import replace
from pathlib import Path

import pytest

from fixtures.reference import ACCOUNTS, SENTIMENT
from harness.data.schema import Column
from harness.pipeline import load_pipeline
from harness.pipeline.lineage import (
    ColumnRef,
    KeyLink,
    LineageError,
    Predicate,
    ProductLineage,
)
from harness.pipeline.model import PipelineModel, TableStatement

ROOT = Path("/repo/pipelines/sources/p1")


def table(name, ddl="", dml="", parents=(), layer="source"):
    """A table whose files sit in a shift_left layout under ROOT."""
    folder = ROOT / name / "sql-scripts"
    return TableStatement(name, layer, ddl=ddl, dml=dml, parents=tuple(parents),
                          ddl_path=folder / f"ddl.{name}.sql" if ddl else None,
                          dml_path=folder / f"dml.{name}.sql" if dml else None)


def lineage(*tables):
    return ProductLineage(PipelineModel(tables))


def ref(name):
    table_name, column = name.split(".")
    return ColumnRef(table_name, column)


@pytest.fixture(scope="module")
def sentiment():
    return ProductLineage(load_pipeline(SENTIMENT))


ORDERS_DDL = ("CREATE TABLE src_orders (order_id BIGINT, customer STRING, amount DOUBLE, "
              "ts TIMESTAMP(3), PRIMARY KEY (order_id) NOT ENFORCED)")
ORDERS_DML = """-- orders from the raw topic
INSERT INTO src_orders
SELECT order_id, CAST(cust AS STRING) AS customer, amount, ts
FROM raw_orders
WHERE amount > 10 AND status = 'OK' AND 5 < qty AND region IN ('eu', 'us')
  AND MOD(HASH_CODE(cust), 10) <> 0"""


def orders(*more):
    return lineage(table("src_orders", ORDERS_DDL, ORDERS_DML, ["raw_orders"]), *more)


# -- the reference products ------------------------------------------------------------


def test_sentiment_key_links_are_the_two_joins_once_each(sentiment):
    assert sentiment.key_links() == [
        KeyLink(ref("raw_scores.article_id"), ref("raw_articles.article_id"),
                "int_article_sentiment", "join"),
        KeyLink(ref("raw_articles.ticker_id"), ref("raw_tickers.ticker_id"),
                "int_ticker_articles", "join"),
    ]
    assert sentiment.warnings == []


def test_fact_join_traces_both_sides_to_the_same_link():
    model = load_pipeline(SENTIMENT)
    no_joins = {  # the intermediates without their joins: only the fact's join is left
        "int_article_sentiment": "INSERT INTO int_article_sentiment SELECT score_id, "
                                 "article_id, '', '', score FROM src_scores",
        "int_ticker_articles": "INSERT INTO int_ticker_articles SELECT article_id, "
                               "ticker_id, '', '' FROM src_articles"}
    tables = [replace(t, dml=no_joins.get(t.name, t.dml)) for t in model.tables.values()]
    found = ProductLineage(PipelineModel(tables))
    assert found.key_links() == [
        KeyLink(ref("raw_scores.article_id"), ref("raw_articles.article_id"),
                "fct_ticker_sentiment", "join")]


def test_sentiment_source_keys(sentiment):
    assert {name: sentiment.source_key(name)
            for name in ("raw_scores", "raw_articles", "raw_tickers")} == {
        "raw_scores": "score_id", "raw_articles": "article_id", "raw_tickers": "ticker_id"}


def test_origins_follow_copies_and_stop_at_aggregates(sentiment):
    assert sentiment.origins("int_article_sentiment", "score_id") == {ref("raw_scores.score_id")}
    assert sentiment.origins("fct_ticker_sentiment", "score_count") == set()
    assert ref("raw_articles.ticker_id") in sentiment.origins("fct_ticker_sentiment",
                                                              "ticker_id")
    assert sentiment.origins("src_tickers", "symbol") == {ref("raw_tickers.symbol")}
    assert sentiment.origins("raw_tickers", "symbol") == {ref("raw_tickers.symbol")}


def test_source_shapes(sentiment):
    scores = sentiment.shape("src_scores")
    assert Predicate(ref("raw_scores.score_id"), "not_null", (), "src_scores") in \
        scores.predicates
    assert Predicate(ref("raw_scores.score"), "between", (-1, 1), "src_scores") in \
        scores.predicates
    assert scores.filters == ()
    tickers = sentiment.shape("src_tickers")
    assert tickers.dedup_keys == ("ticker_id",)
    assert tickers.filters == ()  # row_num = 1 is the dedup, not a filter
    assert [p.op for p in tickers.predicates] == ["not_null"]
    fact = sentiment.shape("fct_ticker_sentiment")
    assert fact.aggregates and not fact.windowed and not fact.outer_joins
    assert not sentiment.shape("int_article_sentiment").aggregates


def test_path_lists_the_statements_upstream_in_order(sentiment):
    assert sentiment.path("int_ticker_articles") == [
        "src_articles", "src_tickers", "int_ticker_articles"]
    assert sentiment.path("raw_scores") == []


def test_columns_of_an_external_with_ddl_are_its_ddl_columns(sentiment):
    assert [c.name for c in sentiment.columns("raw_tickers")] == [
        "ticker_id", "symbol", "sector", "updated_at"]
    assert sentiment.infer_columns("raw_tickers").inferred_from["symbol"].endswith(
        "ddl.raw_tickers.sql: declared in the DDL")


def test_cdc_accounts_product_is_analysed():
    accounts = ProductLineage(load_pipeline(ACCOUNTS))
    assert accounts.warnings == []
    assert accounts.source_key("raw_accounts") == "id"
    assert accounts.origins("fct_owner_balance", "owner") == set()  # TRIM(owner) upstream
    assert accounts.shape("src_accounts").predicates == (
        Predicate(ref("raw_accounts.balance"), ">=", (0,), "src_accounts"),)
    assert accounts.shape("fct_owner_balance").aggregates
    assert accounts.key_links() == []


def test_both_products_are_analysed_fast():
    models = [load_pipeline(SENTIMENT), load_pipeline(ACCOUNTS)]
    start = time.perf_counter()
    for model in models:
        analysed = ProductLineage(model)
        for name in model.tables:
            analysed.shape(name)
    assert time.perf_counter() - start < 0.5


# -- shapes ------------------------------------------------------------------------------


def test_simple_predicates_are_resolved_and_the_rest_are_opaque_filters():
    shape = orders().shape("src_orders")
    assert [(p.column.column, p.op, p.values) for p in shape.predicates] == [
        ("amount", ">", (10,)), ("status", "=", ("OK",)), ("qty", ">", (5,)),
        ("region", "in", ("eu", "us"))]
    assert shape.filters == ("MOD(HASH_CODE(cust), 10) <> 0",)


def test_a_condition_on_a_computed_column_is_an_opaque_filter():
    found = lineage(table("k", "CREATE TABLE k (a STRING)",
                          "INSERT INTO k SELECT a FROM (SELECT t_ref AS a, v + 1 AS w "
                          "FROM raw_v) WHERE w > 3", ["raw_v"]))
    assert found.shape("k").filters == ("w > 3",)
    assert found.origins("k", "a") == {ref("raw_v.t_ref")}


def test_left_join_sets_outer_joins():
    found = orders(table("int_l", "CREATE TABLE int_l (order_id BIGINT, name STRING)",
                         "INSERT INTO int_l SELECT o.order_id, c.name FROM src_orders o "
                         "LEFT JOIN raw_customers c ON o.customer = c.cid",
                         ["src_orders", "raw_customers"], layer="intermediate"))
    assert found.shape("int_l").outer_joins
    assert found.origins("int_l", "name") == {ref("raw_customers.name")}


def test_tumble_window_tvf_sets_windowed_and_keeps_origins():
    found = orders(table(
        "fct_w", "CREATE TABLE fct_w (window_start TIMESTAMP(3), customer STRING, total DOUBLE)",
        "INSERT INTO fct_w SELECT window_start, customer, SUM(amount) FROM TABLE(TUMBLE("
        "TABLE src_orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, "
        "window_end, customer", ["src_orders"], layer="fact"))
    shape = found.shape("fct_w")
    assert shape.windowed and shape.aggregates
    assert found.origins("fct_w", "customer") == {ref("raw_orders.cust")}
    assert found.origins("fct_w", "window_start") == set()


def test_unparsable_vendor_statement_gives_a_parse_error_and_a_warning():
    found = orders(table("bad", "CREATE TABLE bad (a STRING)",
                         "INSERT INTO bad\nSELECT a FROM src_orders MATCH_RECOGNIZE (PARTITION "
                         "BY a ORDER BY ts MEASURES A.x AS a PATTERN (A B+) DEFINE A AS A.x > 1)",
                         ["src_orders"], layer="fact"))
    shape = found.shape("bad")
    assert shape.parse_error and shape.filters == () and not shape.aggregates
    assert found.origins("bad", "a") == set()
    [warning] = found.warnings
    assert warning.startswith(str(ROOT / "bad" / "sql-scripts" / "dml.bad.sql") + ":2: ")
    assert "sqlglot cannot parse the DML of bad" in warning


def test_dedup_in_a_cte_with_row_number_at_most_one():
    found = lineage(table(
        "src_t", "CREATE TABLE src_t (tid STRING, Name STRING, upd BIGINT)",
        "SET 'a' = 'b';\nINSERT INTO `cat`.`db`.`src_t`\nWITH d AS (\n  SELECT *, ROW_NUMBER() "
        "OVER (PARTITION BY tid ORDER BY upd DESC) AS rn\n  FROM `cat`.`db`.raw_t WHERE `Name` "
        "<> ''\n)\nSELECT tid, `Name`, upd FROM d WHERE rn <= 1", ["raw_t"]))
    shape = found.shape("src_t")
    assert shape.dedup_keys == ("tid",) and shape.filters == ()
    assert shape.predicates == (Predicate(ref("raw_t.Name"), "<>", ("",), "src_t"),)
    assert found.source_key("raw_t") == "tid"
    assert [c.name for c in found.infer_columns("raw_t").columns] == ["tid", "Name", "upd"]


# -- key links -----------------------------------------------------------------------------


def test_where_equality_is_a_filter_link_to_the_key_side():
    found = orders(table("j", "CREATE TABLE j (order_id BIGINT, v DOUBLE)",
                         "INSERT INTO j SELECT o.order_id, v FROM src_orders o, raw_v "
                         "WHERE o.order_id = raw_v.order_ref AND v > 0.5",
                         ["src_orders", "raw_v"], layer="fact"))
    assert found.key_links() == [
        KeyLink(ref("raw_v.order_ref"), ref("raw_orders.order_id"), "j", "filter")]
    assert found.shape("j").predicates == (Predicate(ref("raw_v.v"), ">", (0.5,), "j"),)
    assert found.warnings == []


def test_a_link_without_a_key_side_is_chosen_by_name_and_warned():
    found = lineage(table("x", "CREATE TABLE x (a STRING)",
                          "INSERT INTO x SELECT l.a FROM raw_l l JOIN raw_r r ON l.a = r.b",
                          ["raw_l", "raw_r"]))
    assert found.key_links() == [KeyLink(ref("raw_r.b"), ref("raw_l.a"), "x", "join")]
    [warning] = found.warnings
    assert "dml.x.sql:1: neither raw_l.a nor raw_r.b is its table's key" in warning


def test_union_branches_all_give_origins():
    found = orders(table("u", "CREATE TABLE u (id BIGINT)",
                         "INSERT INTO u SELECT order_id FROM src_orders UNION ALL "
                         "SELECT cid FROM raw_customers", ["src_orders", "raw_customers"],
                         layer="fact"))
    assert found.origins("u", "id") == {ref("raw_orders.order_id"), ref("raw_customers.cid")}


def test_insert_column_list_maps_select_positions():
    found = lineage(table("t", "CREATE TABLE t (a STRING, b STRING)",
                          "INSERT INTO t (b, a) SELECT x, y FROM raw", ["raw"]))
    assert found.origins("t", "a") == {ref("raw.y")}
    assert found.origins("t", "b") == {ref("raw.x")}


# -- columns of externals without DDL ------------------------------------------------------


def test_infer_columns_types_each_column_and_says_why():
    inferred = orders().infer_columns("raw_orders")
    assert inferred.columns == [
        Column("order_id", "BIGINT", nullable=False), Column("cust", "STRING"),
        Column("amount", "DOUBLE"), Column("ts", "TIMESTAMP(3)"), Column("status", "STRING"),
        Column("qty", "BIGINT"), Column("region", "STRING")]
    dml = str(ROOT / "src_orders" / "sql-scripts" / "dml.src_orders.sql")
    assert inferred.inferred_from["order_id"] == \
        f"{dml}:3: copied unchanged into src_orders.order_id"
    assert inferred.inferred_from["qty"] == f"{dml}:5: compared with 5"
    assert "CAST(cust AS STRING)" in inferred.inferred_from["cust"]
    assert orders().columns("raw_orders") == inferred.columns


def test_select_star_from_an_external_without_ddl_is_refused_with_the_fix():
    found = lineage(table("star", "CREATE TABLE star (a STRING)",
                          "INSERT INTO star SELECT * FROM raw_star", ["raw_star"]))
    with pytest.raises(LineageError) as raised:
        found.infer_columns("raw_star")
    message = str(raised.value)
    assert message.startswith(str(ROOT / "star" / "sql-scripts" / "dml.star.sql") + ":1: ")
    assert str(ROOT / "raw_star" / "sql-scripts" / "ddl.raw_star.sql") in message
    assert "CREATE TABLE raw_star (...)" in message


def test_an_external_of_which_no_column_is_read_is_refused():
    found = lineage(table("n", "CREATE TABLE n (c BIGINT)",
                          "INSERT INTO n SELECT COUNT(*) FROM raw_n", ["raw_n"]))
    with pytest.raises(LineageError, match="no statement reads a named column of raw_n"):
        found.columns("raw_n")


def test_a_column_only_joined_takes_the_type_of_the_declared_column_it_equals():
    found = lineage(
        table("raw_a", "CREATE TABLE raw_a (id BIGINT, name STRING)", layer="external"),
        table("src_a", "CREATE TABLE src_a (id BIGINT, name STRING)",
              "INSERT INTO src_a SELECT id, name FROM raw_a", ["raw_a"]),
        table("j", "CREATE TABLE j (name STRING, n DOUBLE)",
              "INSERT INTO j SELECT a.name, CAST(b.n AS DOUBLE) FROM src_a a\n"
              "JOIN raw_b b ON b.a_ref = a.id", ["src_a", "raw_b"], layer="fact"))
    inferred = found.infer_columns("raw_b")
    assert inferred.columns == [Column("n", "DOUBLE"), Column("a_ref", "BIGINT")]
    assert inferred.inferred_from["a_ref"].endswith("dml.j.sql:2: equated with raw_a.id")
    assert found.key_links() == [KeyLink(ref("raw_b.a_ref"), ref("raw_a.id"), "j", "join")]


def test_a_column_read_by_a_time_function_is_inferred_as_a_timestamp(tmp_path):
    from harness.pipeline.lineage import ProductLineage as Lineage
    from harness.pipeline.loader import load_pipeline as load

    (tmp_path / "t.sql").write_text(
        "CREATE TABLE t (id STRING, h BIGINT, PRIMARY KEY (id) NOT ENFORCED) WITH "
        "('changelog.mode' = 'upsert');\n"
        "INSERT INTO t SELECT id, HOUR(created) FROM raw_t;\n")
    inferred = Lineage(load(tmp_path)).infer_columns("raw_t")
    types = {c.name: c.type for c in inferred.columns}
    assert types["created"] == "TIMESTAMP(3)"
    assert "time function" in inferred.inferred_from["created"]
