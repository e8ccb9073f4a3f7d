"""Benchmarks that print JSON figures.

`cutover bench stack`: cold start per service and for the whole stack, and peak RSS.
`cutover bench pipeline`: statement submission latency and time to the first record in
each sink. `cutover bench injection`: synthetic data generation and injection rates, and
the time to read a sink back and check it. Figures over several runs are medians, and
the raw samples are printed too.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from harness.checks import no_duplicates, nothing_lost
from harness.config import Config
from harness.data.generator import RecordGenerator
from harness.data.injector import KafkaInjector
from harness.data.ledger import Ledger
from harness.data.schema import columns_from_ddl
from harness.flink import quotes
from harness.flink.gateway import SqlGatewaySession
from harness.flink.rest import FlinkRestClient
from harness.readers import read_topic
from harness.stack.endpoint import FlinkEndpoint, IcebergEndpoint, KafkaEndpoint
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
            for key, value in service.stats().items():
                rss[name + key.removeprefix("peak_rss_bytes")] = int(value)
        return total, dict(stack.timings_s), rss


def bench_stack(config: Config, *, services: list[str], runs: int = 3,
                progress: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Start each service alone, then all together, ``runs`` times; medians in JSON shape."""
    alone: dict[str, list[float]] = {n: [] for n in services}
    whole: list[float] = []
    rss: dict[str, list[int]] = {}
    for run in range(1, runs + 1):
        for name in services:
            progress(f"run {run}/{runs}: {name} alone")
            alone[name].append(_cold_start(config, [name])[0])
        progress(f"run {run}/{runs}: {', '.join(services)} together")
        total, _, peaks = _cold_start(config, services)
        whole.append(total)
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
    """Synthetic data: generation rate, injection rate into Kafka, and check time."""
    generator = RecordGenerator(columns_from_ddl(SCORES_DDL), key="score_id", seed=1,
                                id_prefix="S")
    started = time.monotonic()
    batch = generator.records(records)
    generated_s = time.monotonic() - started
    with Stack(config, progress=progress) as stack:
        kafka = stack.endpoint("kafka")
        assert isinstance(kafka, KafkaEndpoint)
        namespace = Namespace(stack, namespace_name("bench_inject"))
        topic = namespace.create_topic("raw_scores", partitions=3)
        ledger = Ledger()
        progress(f"sending {records} records to {topic}")
        stats = KafkaInjector(kafka.bootstrap_servers, topic, ledger=ledger,
                              key_field="score_id").send(batch)
        started = time.monotonic()
        rows = list(read_topic(kafka.bootstrap_servers, topic).upsert_view().values())
        read_s = time.monotonic() - started
        started = time.monotonic()
        ok = (no_duplicates(rows, "score_id", sink=topic).ok and
              nothing_lost(ledger.acked_keys(topic), rows, "score_id", sink=topic).ok)
        checks_s = time.monotonic() - started
        namespace.clean()
    return {
        "benchmark": "injection",
        "records": records,
        "generate_per_s": round(records / generated_s),
        "inject_per_s": round(stats.acked / stats.seconds),
        "read_back_s": round(read_s, 3),
        "checks_s": round(checks_s, 3),
        "checks_ok": ok,
    }
