"""Settled means settled: once Settler.wait returns, the final sink already holds the input.

A two-statement chain (topic -> A -> upsert topic -> B -> upsert topic) on the real stack.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import pytest
from confluent_kafka import Producer

from harness.bench_quotes import produce
from harness.flink import Settler, SettleStatus, SettleTimeout, Statement
from harness.readers import read_topic

N = 2_000
EXACTLY_ONCE = ("'sink.delivery-guarantee' = 'exactly-once', "
                "'sink.transactional-id-prefix' = '{prefix}', "
                "'properties.transaction.timeout.ms' = '60000', ")


@dataclass
class Chain:
    source: str
    middle: str
    sink: str
    jobs: dict[str, str]  # statement name -> job id


def create_chain(sql, rest, ns, kafka, *, exactly_once_middle: bool = False,
                 second: bool = True) -> Chain:
    source = ns.create_topic("scores", partitions=3)
    middle = ns.create_topic("scores_latest", partitions=3)
    sink = ns.create_topic("scores_scaled", partitions=3)
    bootstrap = kafka.bootstrap_servers
    delivery = EXACTLY_ONCE.format(prefix=ns.group("tx")) if exactly_once_middle else ""
    sql.execute(f"""
        CREATE TABLE scores (id BIGINT, score INT)
        WITH ('connector' = 'kafka', 'topic' = '{source}',
              'properties.bootstrap.servers' = '{bootstrap}',
              'properties.group.id' = '{ns.group("latest")}',
              'scan.startup.mode' = 'earliest-offset', 'format' = 'json')""")
    sql.execute(f"""
        CREATE TABLE scores_latest (id BIGINT, score INT, PRIMARY KEY (id) NOT ENFORCED)
        WITH ('connector' = 'upsert-kafka', 'topic' = '{middle}', {delivery}
              'properties.bootstrap.servers' = '{bootstrap}',
              'properties.group.id' = '{ns.group("scaled")}',
              'key.format' = 'json', 'value.format' = 'json')""")
    sql.execute(f"""
        CREATE TABLE scores_scaled (id BIGINT, score INT, PRIMARY KEY (id) NOT ENFORCED)
        WITH ('connector' = 'upsert-kafka', 'topic' = '{sink}',
              'properties.bootstrap.servers' = '{bootstrap}',
              'key.format' = 'json', 'value.format' = 'json')""")
    jobs = {}
    first = sql.submit(Statement("latest_scores",
                                 "INSERT INTO scores_latest SELECT id, score FROM scores"),
                       rest=rest)
    jobs[first.name] = first.job_id
    if second:
        scaled = sql.submit(Statement("scaled_scores", "INSERT INTO scores_scaled "
                                      "SELECT id, score * 10 FROM scores_latest"), rest=rest)
        jobs[scaled.name] = scaled.job_id
    return Chain(source, middle, sink, jobs)


def scores(ids: range, *, salt: int = 0) -> list[dict[str, object]]:
    return [{"id": i, "score": (i + salt) % 97} for i in ids]


def sink_view(kafka, topic: str) -> dict[int, int]:
    view = read_topic(kafka.bootstrap_servers, topic).upsert_view()
    return {int(json.loads(key or b"{}")["id"]): value["score"] for key, value in view.items()}


def settle_after_produce(kafka, settler: Settler, chain: Chain, records, capsys,
                         record_property, label: str) -> float:
    """Produce, then wait until settled; returns seconds from the last ack to settled."""
    produce(kafka, chain.source, records)
    acked = time.monotonic()
    settler.wait(chain.jobs, timeout_s=90, outputs=[chain.sink])
    seconds = time.monotonic() - acked
    record_property(f"{label}_ack_to_settled_s", round(seconds, 2))
    with capsys.disabled():
        print(f"\n[settle] {label}: last produce ack -> settled in {seconds:.2f}s "
              f"(goal <= 5 s)")
    return seconds


def test_wait_returns_when_the_final_sink_already_holds_every_key(
        kafka, flink_sql, flink_rest, namespace, capsys, record_property):
    chain = create_chain(flink_sql, flink_rest, namespace, kafka)
    with Settler(flink_rest, kafka.bootstrap_servers) as settler:
        settler.wait(chain.jobs, timeout_s=120)  # sources assigned, empty topics settled
        records = scores(range(N))
        seconds = settle_after_produce(kafka, settler, chain, records, capsys,
                                       record_property, "at-least-once chain")
        view = sink_view(kafka, chain.sink)  # read right after settling: no retries
        assert set(view) == set(range(N))
        assert all(view[r["id"]] == r["score"] * 10 for r in records)
        status = settler.status(chain.jobs)
        assert all(n == 0 for lag in status.lag.values() for n in lag.values())
    assert seconds < 30  # goal <= 5 s; far above it means waiting for the wrong thing


def test_commit_markers_of_an_exactly_once_input_do_not_block_settling(
        kafka, flink_sql, flink_rest, namespace, capsys, record_property):
    chain = create_chain(flink_sql, flink_rest, namespace, kafka, exactly_once_middle=True)
    with Settler(flink_rest, kafka.bootstrap_servers) as settler:
        settler.wait(chain.jobs, timeout_s=120)
        records = scores(range(N), salt=3)
        settle_after_produce(kafka, settler, chain, records, capsys, record_property,
                             "exactly-once middle")
        view = sink_view(kafka, chain.sink)
        assert view == {r["id"]: r["score"] * 10 for r in records}
        status = settler.status(chain.jobs)
    reader = status.positions["scaled_scores"]
    markers = [tp for tp in reader if reader[tp] < status.end_offsets[tp]]
    assert markers, f"expected commit markers past the last record: {status}"
    assert all(n == 0 for n in status.lag["scaled_scores"].values())


def test_not_settled_while_input_keeps_arriving(kafka, flink_sql, flink_rest, namespace):
    chain = create_chain(flink_sql, flink_rest, namespace, kafka)
    stop, producing = threading.Event(), threading.Event()
    errors: list[str] = []

    def keep_producing() -> None:
        producer = Producer({"bootstrap.servers": kafka.bootstrap_servers, "linger.ms": 0})
        i = 0
        while not stop.is_set():
            record = {"id": i % 500, "score": i % 97}
            producer.produce(chain.source, key=json.dumps({"id": i % 500}).encode(),
                             value=json.dumps(record).encode(),
                             on_delivery=lambda err, _: err and errors.append(str(err)))
            producer.poll(0)
            if i == 50:
                producer.flush(10)
                producing.set()
            i += 1
            stop.wait(0.005)
        producer.flush(10)

    with Settler(flink_rest, kafka.bootstrap_servers) as settler:
        settler.wait(chain.jobs, timeout_s=120)
        thread = threading.Thread(target=keep_producing, daemon=True)
        thread.start()
        try:
            assert producing.wait(timeout=30), "the background producer never got an ack"
            statuses: list[SettleStatus] = []
            window = time.monotonic() + 6  # three checkpoint intervals of observation
            while time.monotonic() < window:
                statuses.append(settler.status(chain.jobs))
        finally:
            stop.set()
            thread.join(timeout=30)
    assert not errors
    assert statuses and not [s for s in statuses if s.settled]
    kinds = {kind for s in statuses for kind in s.waiting_on.values()}
    assert kinds <= {"behind", "checkpoint", "open-transaction"}, kinds
    assert any(n > 0 for s in statuses for lag in s.lag.values() for n in lag.values())


def test_a_cancelled_job_is_not_settled_and_wait_names_it(kafka, flink_sql, flink_rest,
                                                          namespace):
    chain = create_chain(flink_sql, flink_rest, namespace, kafka, second=False)
    with Settler(flink_rest, kafka.bootstrap_servers) as settler:
        settler.wait(chain.jobs, timeout_s=120)  # it could settle while it ran
        flink_rest.cancel(chain.jobs["latest_scores"])
        status = settler.status(chain.jobs)
        assert not status.settled
        assert status.reason == f"latest_scores (job {chain.jobs['latest_scores']}) is CANCELED"
        started = time.monotonic()
        with pytest.raises(SettleTimeout) as err:
            settler.wait(chain.jobs, timeout_s=3)
        assert time.monotonic() - started < 3 + 5
    message = str(err.value)
    assert "did not settle within 3s" in message
    assert "latest_scores" in message and "CANCELED" in message
    assert "resubmit it" in message
