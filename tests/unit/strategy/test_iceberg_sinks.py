"""Iceberg sinks: which tables get one, and the SQL that makes and fills them."""

import pytest

from fixtures.reference import SENTIMENT
from harness.deploy.iceberg_sinks import IcebergSinkError, IcebergSinks
from harness.errors import CutoverError
from harness.pipeline.loader import load_pipeline
from harness.stack.endpoint import IcebergEndpoint
from harness.strategy.bluegreen_setup import sink_tables

ENDPOINT = IcebergEndpoint(service="iceberg", catalog="cutover", jdbc_uri="jdbc:postgresql://x",
                           sqlalchemy_uri="postgresql+psycopg://x", user="u", warehouse="/w")


def test_layers_and_names_choose_the_sink_tables():
    model = load_pipeline(SENTIMENT)
    assert sink_tables(model, ("fact", "view")) == ["fct_ticker_sentiment", "v_sector_sentiment"]
    assert sink_tables(model, ("src_scores",)) == ["src_scores"]
    with pytest.raises(CutoverError, match="names no layer and no table"):
        sink_tables(model, ("facts",))


def test_an_upsert_sink_table_has_the_key_and_commits_every_checkpoint():
    sinks = IcebergSinks(ENDPOINT, "ns1")
    ddl = load_pipeline(SENTIMENT).tables["fct_ticker_sentiment"].ddl
    create = sinks.create_sql("fct_ticker_sentiment_v2", ddl)
    assert create.startswith("CREATE TABLE IF NOT EXISTS `cutover`.`ns1`.`fct_ticker_sentiment_v2`")
    assert "PRIMARY KEY (`ticker_id`) NOT ENFORCED" in create
    assert "'write.upsert.enabled' = 'true'" in create
    assert "'flink.max-continuous-empty-commits' = '1'" in create
    insert = sinks.insert_sql("fct_ticker_sentiment_v2", ddl)
    assert insert.endswith("FROM `fct_ticker_sentiment_v2`")
    assert sinks.statement("t") == "sink_t" and sinks.identifier("t") == "ns1.t"


def test_a_table_without_a_key_cannot_have_an_upsert_sink():
    with pytest.raises(IcebergSinkError, match="no PRIMARY KEY"):
        IcebergSinks(ENDPOINT, "ns").create_sql("t", "CREATE TABLE t (a STRING)")
