"""The quotes pipeline: a keyed JSON topic mirrored into an upsert-kafka topic and an
Iceberg upsert table by one statement.

The smallest pipeline that exercises every part of the stack a blue/green run relies on
(Kafka source, SQL Gateway statement, upsert-kafka sink, Iceberg writer with equality
deletes). The stack's integration tests and `cutover bench pipeline` use it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from harness.data.injector import KafkaInjector
from harness.data.ledger import Ledger
from harness.flink.gateway import SqlGatewaySession
from harness.flink.statement import Statement
from harness.iceberg import query, read_table
from harness.readers import read_topic
from harness.stack.endpoint import IcebergEndpoint, KafkaEndpoint
from harness.stack.namespace import Namespace


@dataclass
class Pipeline:
    """Names of the source, both sinks, and the statement that joins them."""

    source: str
    upsert_topic: str
    iceberg_table: str  # catalog.database.table for Flink
    iceberg_identifier: str  # database.table for pyiceberg
    statement: Statement


def create_pipeline(sql: SqlGatewaySession, ns: Namespace, kafka: KafkaEndpoint,
                    iceberg: IcebergEndpoint) -> Pipeline:
    source = ns.create_topic("quotes", partitions=3)
    upsert = ns.create_topic("quotes_latest", partitions=3)
    bootstrap = kafka.bootstrap_servers
    sql.execute(iceberg.flink_catalog_sql())
    sql.execute(f"""
        CREATE TABLE quotes (id BIGINT, symbol STRING, price DOUBLE, version INT)
        WITH ('connector' = 'kafka', 'topic' = '{source}',
              'properties.bootstrap.servers' = '{bootstrap}',
              'properties.group.id' = '{ns.group("flink")}',
              'scan.startup.mode' = 'earliest-offset', 'format' = 'json')""")
    sql.execute(f"""
        CREATE TABLE quotes_latest (id BIGINT, symbol STRING, price DOUBLE, version INT,
                                    PRIMARY KEY (id) NOT ENFORCED)
        WITH ('connector' = 'upsert-kafka', 'topic' = '{upsert}',
              'properties.bootstrap.servers' = '{bootstrap}',
              'key.format' = 'json', 'value.format' = 'json')""")
    table = ns.iceberg_table("quotes_latest")
    sql.execute(f"""
        CREATE TABLE {table} (id BIGINT, symbol STRING, price DOUBLE, version INT,
                              PRIMARY KEY (id) NOT ENFORCED)
        WITH ('format-version' = '2', 'write.upsert.enabled' = 'true')""")
    statement = Statement("quotes_to_sinks", f"""
        EXECUTE STATEMENT SET BEGIN
          INSERT INTO quotes_latest SELECT * FROM quotes;
          INSERT INTO {table} SELECT * FROM quotes;
        END""")
    return Pipeline(source, upsert, table, f"{ns.iceberg_database}.quotes_latest", statement)


def produce(kafka: KafkaEndpoint, topic: str, records: list[dict[str, object]]) -> None:
    """Send keyed JSON records (key: ``id``); raises if any was not acknowledged."""
    KafkaInjector(kafka.bootstrap_servers, topic, ledger=Ledger(), key_field="id").send(
        records)


def records_with_updates(ids: range, updates: int, *, seed: int,
                         version: int = 1) -> list[dict[str, object]]:
    """One record per id, then ``updates`` newer versions of existing ids."""
    rng = random.Random(seed)
    records: list[dict[str, object]] = [
        {"id": i, "symbol": f"S{i % 500}", "price": round(rng.uniform(1, 500), 2),
         "version": version} for i in ids]
    for i in rng.sample(list(ids), updates):
        records.append({"id": i, "symbol": f"S{i % 500}",
                        "price": round(rng.uniform(1, 500), 2), "version": version + 1})
    return records


def latest(records: list[dict[str, object]]) -> dict[int, dict[str, object]]:
    out: dict[int, dict[str, object]] = {}
    for record in records:
        out[int(str(record["id"]))] = record
    return out


def upsert_topic_matches(kafka: KafkaEndpoint, topic: str,
                         expected: dict[int, dict[str, object]]) -> Callable[[], str | None]:
    def check() -> str | None:
        view = {int(json.loads(k or b"{}")["id"]): v
                for k, v in read_topic(kafka.bootstrap_servers, topic).upsert_view().items()}
        if view == expected:
            return None
        wrong = [k for k in expected if view.get(k) != expected[k]]
        return f"{len(view)} keys, {len(wrong)} missing or stale (e.g. {wrong[:3]})"
    return check


def iceberg_matches(iceberg: IcebergEndpoint, identifier: str,
                    expected: dict[int, dict[str, object]]) -> Callable[[], str | None]:
    def check() -> str | None:
        rows = read_table(iceberg, identifier)
        dupes = query("SELECT id, count(*) AS n FROM t GROUP BY id HAVING n > 1", t=rows)
        if dupes.num_rows:
            return f"duplicate keys, e.g. {dupes.to_pylist()[:3]}"
        view = {r["id"]: r for r in rows.to_pylist()}
        if view == expected:
            return None
        wrong = [k for k in expected if view.get(k) != expected[k]]
        return f"{len(view)} rows, {len(wrong)} missing or stale (e.g. {wrong[:3]})"
    return check
