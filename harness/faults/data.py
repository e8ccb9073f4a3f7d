"""Data faults on a source topic: duplicate events, poison pills, and a producer killed
mid-transaction.

``duplicate`` re-sends the last records of the topic byte for byte (key, value, headers,
partition), as a producer retrying without idempotence would. ``poison`` writes records
no format decodes. ``abort`` starts a
transactional producer in a child process, has it write fresh records of the topic's own
shape inside a transaction, and SIGKILLs it before it commits: the broker aborts the
transaction when it times out, and no consumer reading committed records may see them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from harness.errors import CutoverError, UnknownNameError
from harness.faults.base import Fault, FaultSpec
from harness.wait import wait_until

ACTIONS = ("duplicate", "abort", "poison")
POISON = b"\x00\xffcutover poison pill: not JSON, not Avro {"
TRANSACTION_TIMEOUT_MS = 5000  # the broker aborts the killed producer's transaction then


def last_records(bootstrap_servers: str, topic: str, count: int, *,
                 timeout_s: float = 15.0) -> list[Any]:
    """The last ``count`` committed records of ``topic`` (by timestamp, all partitions)."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "cutover-fault",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics[topic]
        assignment, wanted = [], 0
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition),
                                                       timeout=timeout_s)
            start = max(low, high - count)
            if high > start:
                assignment.append(TopicPartition(topic, partition, start))
                wanted += high - start
        consumer.assign(assignment)
        records: list[Any] = []

        def drained() -> str | None:
            for message in consumer.consume(num_messages=500, timeout=0.5):
                if message.error() is None:
                    records.append(message)
            return None if len(records) >= wanted else f"{len(records)} of {wanted} read"

        wait_until(drained, timeout_s=timeout_s, what=f"reading the end of {topic}",
                   interval_s=0)
        records.sort(key=lambda m: (m.timestamp()[1], m.partition(), m.offset()))
        return records[-count:] if count else []
    finally:
        consumer.close()


def produce_all(bootstrap_servers: str, topic: str, records: list[dict[str, Any]], *,
                what: str) -> None:
    """Produce ``records`` (``produce`` keyword arguments) and wait for every ack."""
    producer = Producer({"bootstrap.servers": bootstrap_servers, "acks": "all"})
    for record in records:
        producer.produce(topic, **record)
    left = producer.flush(30)
    if left:
        raise CutoverError(f"{what}: {left} of {len(records)} records to {topic} not "
                           "acknowledged within 30 s")


class DuplicateEvents(Fault):
    """Re-send the last ``params.count`` records of the topic ``target`` unchanged."""

    def __init__(self, spec: FaultSpec, *, bootstrap_servers: str) -> None:
        super().__init__(spec)
        self.bootstrap_servers = bootstrap_servers
        self.count = int(spec.params.get("count", 20))

    def inject(self) -> dict[str, Any]:
        records = last_records(self.bootstrap_servers, self.spec.target, self.count)
        produce_all(self.bootstrap_servers, self.spec.target, [
            {"value": m.value(), "key": m.key(), "partition": m.partition(),
             "headers": m.headers()} for m in records], what="duplicate events")
        return {"topic": self.spec.target, "table": self.spec.params.get("table", ""),
                "duplicated": len(records),
                "keys": sorted({(m.key() or b"").decode("utf-8", "replace")
                                for m in records})[:20]}


class PoisonPills(Fault):
    """Produce ``params.count`` records that no format can decode to the topic."""

    def __init__(self, spec: FaultSpec, *, bootstrap_servers: str) -> None:
        super().__init__(spec)
        self.bootstrap_servers = bootstrap_servers

    def inject(self) -> dict[str, Any]:
        count = int(self.spec.params.get("count", 10))
        produce_all(self.bootstrap_servers, self.spec.target, [
            {"value": POISON + str(n).encode(), "key": f"cutover-poison-{n}".encode()}
            for n in range(count)], what="poison pills")
        return {"topic": self.spec.target, "table": self.spec.params.get("table", ""),
                "poison_pills": count}


def undecodable(bootstrap_servers: str, topic: str) -> int:
    """How many records of ``topic`` hold a value that is not JSON (dead letters)."""
    count = 0
    for message in last_records(bootstrap_servers, topic, 1 << 30):
        try:
            json.loads(message.value() or b"null")
        except ValueError:
            count += 1
    return count


class AbortedTransaction(Fault):
    """Write ``params.records`` (JSON objects, keyed by ``params.key``) in a transaction
    from a child process, then SIGKILL it before the commit."""

    def __init__(self, spec: FaultSpec, *, bootstrap_servers: str, workdir: Path) -> None:
        super().__init__(spec)
        self.bootstrap_servers, self.workdir = bootstrap_servers, workdir
        self.records: list[dict[str, Any]] = list(spec.params.get("records") or [])
        self.key = str(spec.params.get("key", ""))
        if not self.records or not self.key:
            raise CutoverError(f"fault {spec.label}: params need 'records' (the records the "
                               "killed transaction writes) and 'key' (their key field)")

    def inject(self) -> dict[str, Any]:
        batch = self.workdir / f"aborted-{uuid.uuid4().hex[:8]}.jsonl"
        batch.parent.mkdir(parents=True, exist_ok=True)
        batch.write_text("".join(json.dumps(r, default=str) + "\n" for r in self.records))
        transactional_id = f"cutover-fault-{uuid.uuid4().hex[:8]}"
        log = batch.with_suffix(".log")
        with log.open("w") as errors, subprocess.Popen(
                [sys.executable, "-m", "harness.faults.transaction_writer",
                 self.bootstrap_servers, self.spec.target, self.key, str(batch),
                 transactional_id, str(TRANSACTION_TIMEOUT_MS)],
                stdout=subprocess.PIPE, stderr=errors, text=True) as child:
            # The writer prints one line once every record is in the log, uncommitted
            # (or why it could not); its own logs go to the log file.
            line = child.stdout.readline().strip() if child.stdout else ""
            child.send_signal(signal.SIGKILL)
            child.communicate(timeout=10)
        if not line.startswith("written "):
            raise CutoverError(f"the transactional writer failed before the kill "
                               f"({line or 'no answer'}); its log: {log}: "
                               f"{log.read_text()[-1500:]}")
        return {"topic": self.spec.target, "table": self.spec.params.get("table", ""),
                "transactional_id": transactional_id,
                "pid": child.pid, "records_in_aborted_transaction": len(self.records),
                "aborted_keys": sorted(str(r[self.key]) for r in self.records)}


def data_fault(spec: FaultSpec, *, bootstrap_servers: str, workdir: Path) -> Fault:
    """The data fault ``spec.action`` names."""
    if spec.action == "duplicate":
        return DuplicateEvents(spec, bootstrap_servers=bootstrap_servers)
    if spec.action == "abort":
        return AbortedTransaction(spec, bootstrap_servers=bootstrap_servers, workdir=workdir)
    if spec.action == "poison":
        return PoisonPills(spec, bootstrap_servers=bootstrap_servers)
    raise UnknownNameError("data fault action", spec.action, list(ACTIONS), option=False)
