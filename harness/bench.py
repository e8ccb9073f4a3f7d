"""Benchmarks that print JSON figures (medians over runs, with the raw samples).

- `cutover bench stack`: cold start per service and for the whole stack, and peak RSS.
- `cutover bench pipeline`: statement submission latency and time to the first record
  in each sink.
- `cutover bench injection`: synthetic data generation and injection rates, and the time
  to read a sink back and check it.
- `cutover bench cdc`: source write rate and commit-to-fact latency through Debezium,
  the registry and Flink.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import psycopg

from harness import bench_quotes as quotes
from harness.cdc.connect import ConnectClient
from harness.cdc.debezium import drop_slot, postgres_connector, replica_identity_full
from harness.checks import no_duplicates, nothing_lost
from harness.config import Config
from harness.data.generator import RecordGenerator
from harness.data.injector import KafkaInjector
from harness.data.ledger import Ledger
from harness.data.postgres_writer import PostgresWriter
from harness.data.schema import columns_from_ddl
from harness.errors import CutoverError
from harness.flink.gateway import SqlGatewaySession
from harness.flink.rest import FlinkRestClient
from harness.flink.statement import Statement
from harness.readers import read_topic
from harness.stack.endpoint import (
    FlinkEndpoint,
    HttpEndpoint,
    IcebergEndpoint,
    KafkaEndpoint,
    PostgresEndpoint,
    SchemaRegistryEndpoint,
)
from harness.stack.namespace import Namespace, namespace_name
from harness.stack.stack import Stack
from harness.wait import wait_until


def _cold_start(config: Config, names: list[str]) -> tuple[float, dict[str, float],
                                                            dict[str, int]]:
    with Stack(config, progress=lambda _msg: None) as stack:
        started = time.monotonic()
        stack.require(*names)
        total = time.monotonic() - started
        rss = {}
        for name, service in stack.services.items():
            stats = service.stats()
            for key, value in stats.items():
                if key.startswith("peak_rss_bytes"):
                    rss[name + key.removeprefix("peak_rss_bytes")] = int(value)
            timings = dict(stack.timings_s)
            for phase, seconds in (stats.get("timings_s") or {}).items():
                timings[f"{name}:{phase}"] = float(seconds)  # e.g. kubernetes:kube-apiserver
        return total, timings, rss


def bench_stack(config: Config, *, services: list[str], runs: int = 3,
                progress: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Start each service alone, then all together, ``runs`` times; medians in JSON shape."""
    alone: dict[str, list[float]] = {n: [] for n in services}
    whole: list[float] = []
    rss: dict[str, list[int]] = {}
    phases: dict[str, list[float]] = {}  # inside a service (the control plane's components)
    for run in range(1, runs + 1):
        for name in services:
            progress(f"run {run}/{runs}: {name} alone")
            alone[name].append(_cold_start(config, [name])[0])
        progress(f"run {run}/{runs}: {', '.join(services)} together")
        total, timings, peaks = _cold_start(config, services)
        whole.append(total)
        for phase, seconds in timings.items():
            if ":" in phase:
                phases.setdefault(phase, []).append(seconds)
        for name, value in peaks.items():
            rss.setdefault(name, []).append(value)
    return {
        "benchmark": "stack",
        "provider": config["provider"],
        "runs": runs,
        "cold_start_s": {
            **{n: round(statistics.median(v), 3) for n, v in alone.items()},
            "stack": round(statistics.median(whole), 3),
        },
        "peak_rss_mib": {n: round(statistics.median(v) / 2**20, 1) for n, v in rss.items()},
        "ready_after_s": {p: round(statistics.median(v), 3) for p, v in phases.items()},
        "samples": {
            "cold_start_s": {**{n: [round(x, 3) for x in v] for n, v in alone.items()},
                             "stack": [round(x, 3) for x in whole]},
            "peak_rss_mib": {n: [round(x / 2**20, 1) for x in v] for n, v in rss.items()},
        },
    }


def bench_pipeline(config: Config, *, runs: int = 3,
                   progress: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Statement submission latency and time to the first record in each sink.

    Runs the quotes pipeline ``runs`` times on one stack, each in its own namespace.
    """
    samples: dict[str, list[float]] = {"submit_to_running_s": [], "first_record_upsert_kafka_s":
                                       [], "first_record_iceberg_s": []}
    with Stack(config, progress=progress) as stack:
        endpoints = stack.require("kafka", "iceberg", "flink")
        kafka, iceberg, flink = (endpoints[n] for n in ("kafka", "iceberg", "flink"))
        assert isinstance(kafka, KafkaEndpoint) and isinstance(iceberg, IcebergEndpoint)
        assert isinstance(flink, FlinkEndpoint)
        rest = FlinkRestClient(flink.rest_url)
        for run in range(1, runs + 1):
            progress(f"run {run}/{runs}: quotes pipeline")
            namespace = Namespace(stack, namespace_name(f"bench_{run}"))
            with SqlGatewaySession(flink.sql_gateway_url) as sql:
                pipeline = quotes.create_pipeline(sql, namespace, kafka, iceberg)
                started = time.monotonic()
                sql.submit(pipeline.statement, rest=rest)
                samples["submit_to_running_s"].append(time.monotonic() - started)
                record = quotes.records_with_updates(range(1), 0, seed=run)
                produced = time.monotonic()
                quotes.produce(kafka, pipeline.source, record)
                expected = quotes.latest(record)
                wait_until(quotes.upsert_topic_matches(kafka, pipeline.upsert_topic,
                                                              expected),
                                  timeout_s=120, what="first record in upsert-kafka")
                samples["first_record_upsert_kafka_s"].append(time.monotonic() - produced)
                wait_until(quotes.iceberg_matches(iceberg,
                                                         pipeline.iceberg_identifier, expected),
                                  timeout_s=120, what="first record in Iceberg")
                samples["first_record_iceberg_s"].append(time.monotonic() - produced)
                sql.cancel_statements(rest)
            namespace.clean()
        rest.close()
        rss = stack.services["flink"].stats()
    return {
        "benchmark": "pipeline",
        "runs": runs,
        "checkpoint_interval": config["flink_checkpoint_interval"],
        **{name: round(statistics.median(values), 3) for name, values in samples.items()},
        "peak_rss_mib": {k.removeprefix("peak_rss_bytes_"): round(v / 2**20, 1)
                         for k, v in rss.items() if k != "peak_rss_bytes"},
        "samples": {name: [round(v, 3) for v in values] for name, values in samples.items()},
    }


SCORES_DDL = """CREATE TABLE raw_scores (score_id STRING, article_id STRING, score DOUBLE,
    model_name STRING, scored_at BIGINT)"""


def bench_injection(config: Config, *, records: int = 50_000,
                    progress: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Synthetic data: generation rate, injection rate into Kafka beside a raw producer's
    (the anchor, same broker, same settings, same records, already encoded), the two
    together, and the time to read back and check."""
    generator = RecordGenerator(columns_from_ddl(SCORES_DDL), key="score_id", seed=1,
                                id_prefix="S")
    started = time.monotonic()
    batch = generator.records(records)
    generated_s = time.monotonic() - started
    with Stack(config, progress=progress) as stack:
        kafka = stack.endpoint("kafka")
        assert isinstance(kafka, KafkaEndpoint)
        namespace = Namespace(stack, namespace_name("bench_inject"))
        raw_topic = namespace.create_topic("raw_producer", partitions=3)
        progress(f"anchor: a raw producer sends {records} records to {raw_topic}")
        raw_s = _raw_producer_s(kafka.bootstrap_servers, raw_topic, batch, "score_id")
        topic = namespace.create_topic("raw_scores", partitions=3)
        ledger = Ledger()
        progress(f"sending {records} records to {topic}")
        stats = KafkaInjector(kafka.bootstrap_servers, topic, ledger=ledger,
                              key_field="score_id").send(batch)
        both_topic = namespace.create_topic("generated", partitions=3)
        progress(f"generating and sending {records} records to {both_topic}")
        fresh = RecordGenerator(columns_from_ddl(SCORES_DDL), key="score_id", seed=2,
                                id_prefix="S")
        started = time.monotonic()
        KafkaInjector(kafka.bootstrap_servers, both_topic, ledger=Ledger(),
                      key_field="score_id").send(fresh.record() for _ in range(records))
        both_s = time.monotonic() - started
        started = time.monotonic()
        rows = list(read_topic(kafka.bootstrap_servers, topic).upsert_view().values())
        read_s = time.monotonic() - started
        started = time.monotonic()
        ok = (no_duplicates(rows, "score_id", sink=topic).ok and
              nothing_lost(ledger.acked_keys(topic), rows, "score_id", sink=topic).ok)
        checks_s = time.monotonic() - started
        namespace.clean()
    inject_per_s = stats.acked / stats.seconds
    return {
        "benchmark": "injection",
        "records": records,
        "generate_per_s": round(records / generated_s),
        "raw_producer_per_s": round(records / raw_s),
        "inject_per_s": round(inject_per_s),
        "inject_to_raw": round(inject_per_s * raw_s / records, 3),
        "generate_and_inject_per_s": round(records / both_s),
        "generate_and_inject_to_raw": round(raw_s / both_s, 3),
        "ledger_complete": len(ledger.acked_keys(topic)) == records,
        "read_back_s": round(read_s, 3),
        "checks_s": round(checks_s, 3),
        "checks_ok": ok,
    }


def _raw_producer_s(bootstrap_servers: str, topic: str, records: list[dict[str, Any]],
                    key_field: str) -> float:
    """Seconds a bare confluent-kafka producer (idempotent, acks=all, linger 20 ms, as the
    injector's) takes to have ``records`` acknowledged; values are encoded beforehand."""
    from confluent_kafka import Producer

    encoded = [(str(r[key_field]).encode(), json.dumps(r, default=str).encode())
               for r in records]
    producer = Producer({"bootstrap.servers": bootstrap_servers, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 20})
    acked = [0]

    def delivered(error: Any, _message: Any) -> None:
        acked[0] += error is None

    started = time.monotonic()
    for key, value in encoded:
        while True:
            try:
                producer.produce(topic, value=value, key=key, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    producer.flush(60)
    seconds = time.monotonic() - started
    if acked[0] != len(records):
        raise CutoverError(f"the anchor producer had {acked[0]} of {len(records)} records "
                           f"acknowledged by {bootstrap_servers}")
    return seconds


def bench_cdc(config: Config, *, runs: int = 5, rows: int = 20_000,
              progress: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Source write rate (COPY into PostgreSQL) and CDC end-to-end latency: commit in
    PostgreSQL → row in a Flink fact sink, through Debezium, the registry and Flink."""
    with Stack(config, progress=progress) as stack:
        eps = stack.require("postgres", "kafka", "flink", "registry", "connect")
        pg, kafka, flink = eps["postgres"], eps["kafka"], eps["flink"]
        registry, connect_ep = eps["registry"], eps["connect"]
        assert isinstance(pg, PostgresEndpoint) and isinstance(kafka, KafkaEndpoint)
        assert isinstance(flink, FlinkEndpoint) and isinstance(connect_ep, HttpEndpoint)
        assert isinstance(registry, SchemaRegistryEndpoint)
        namespace = Namespace(stack, namespace_name("bench_cdc"))
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE TABLE "{namespace.schema}".t (id int PRIMARY KEY, '
                         "owner text NOT NULL)".encode())
            conn.execute(replica_identity_full(namespace.schema, "t").encode())
        raw = namespace.topic("raw_t")
        connect = ConnectClient(connect_ep.url)
        connect.put("bench-cdc", postgres_connector(
            postgres=pg, registry=registry, topic_prefix=namespace.topic("cdc"),
            tables=[f"{namespace.schema}.t"], slot="slot_bench_cdc", route_to=raw))
        writer = PostgresWriter(pg.dsn, namespace.schema, "t", key="id")
        started = time.monotonic()
        for first in range(0, rows, 1000):
            writer.insert([{"id": i, "owner": f"o{i % 50}"} for i in range(first, first + 1000)],
                          copy=True)
        write_s = time.monotonic() - started
        progress(f"wrote {rows} rows; measuring commit → fact latency")
        rest = FlinkRestClient(flink.rest_url)
        fact = namespace.create_topic("fct_owner")
        with SqlGatewaySession(flink.sql_gateway_url) as sql:
            sql.execute(f"CREATE TABLE raw_t (id INT, owner STRING) WITH ('connector'='kafka', "
                        f"'topic'='{raw}', 'properties.bootstrap.servers'="
                        f"'{kafka.bootstrap_servers}', 'scan.startup.mode'='earliest-offset', "
                        "'format'='debezium-avro-confluent', "
                        f"'debezium-avro-confluent.url'='{registry.ccompat_url}')")
            sql.execute(f"CREATE TABLE fct_owner (owner STRING, n BIGINT, PRIMARY KEY (owner) "
                        f"NOT ENFORCED) WITH ('connector'='upsert-kafka', 'topic'='{fact}', "
                        f"'properties.bootstrap.servers'='{kafka.bootstrap_servers}', "
                        "'key.format'='json', 'value.format'='json')")
            sql.submit(Statement("fact", "INSERT INTO fct_owner SELECT owner, COUNT(*) "
                                         "FROM raw_t GROUP BY owner"), rest=rest)
            latencies = []
            for run in range(runs):
                owner = f"latency-{run}"
                committed = time.monotonic()
                writer.insert([{"id": rows + run, "owner": owner}])
                wait_until(lambda o=owner: None if any(  # type: ignore[misc]
                    json.loads(k or b"{}").get("owner") == o for k in read_topic(
                        kafka.bootstrap_servers, fact).upsert_view()) else "not yet",
                    timeout_s=120, what=f"{owner} in the fact sink", interval_s=0.05)
                latencies.append(time.monotonic() - committed)
            sql.cancel_statements(rest)
        writer.close()
        connect.delete("bench-cdc")
        connect.close()
        drop_slot(pg.dsn, "slot_bench_cdc")
        rest.close()
    return {
        "benchmark": "cdc",
        "source_rows": rows,
        "source_write_rows_per_s": round(rows / write_s),
        "commit_to_fact_s": round(statistics.median(latencies), 3),
        "samples": {"commit_to_fact_s": [round(x, 3) for x in latencies]},
    }
