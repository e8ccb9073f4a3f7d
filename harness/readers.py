"""Reading sinks as rows for checks.

A Kafka topic is read from the beginning up to its current end (the high watermark of
each partition at the time of the call), so a read is a consistent snapshot and never
waits on an idle topic. Upsert semantics apply by key: the last record of a key wins, and
a tombstone (null value) removes the key.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from harness.errors import CutoverError


@dataclass
class TopicSnapshot:
    """Every record of a topic up to its end at read time."""

    records: list[tuple[bytes | None, Any]] = field(default_factory=list)

    def upsert_view(self) -> dict[bytes | None, Any]:
        """Latest value per key; a tombstone removes its key."""
        view: dict[bytes | None, Any] = {}
        for key, value in self.records:
            if value is None:
                view.pop(key, None)
            else:
                view[key] = value
        return view

    def count_by_key(self) -> dict[bytes | None, int]:
        counts: dict[bytes | None, int] = {}
        for key, _ in self.records:
            counts[key] = counts.get(key, 0) + 1
        return counts


def read_topic(bootstrap_servers: str, topic: str, *,
               decode: Callable[[bytes], Any] = json.loads,
               timeout_s: float = 60.0) -> TopicSnapshot:
    """Read ``topic`` from its first offset to its end at call time."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers,
                         "group.id": f"cutover-reader-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "isolation.level": "read_committed"})
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            raise CutoverError(f"topic {topic!r} does not exist; check the namespace prefix")
        ends = {}
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition),
                                                       timeout=10)
            if high > low:
                ends[partition] = high
        snapshot = TopicSnapshot()
        if not ends:
            return snapshot
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])
        _drain(consumer, ends, snapshot, decode, timeout_s, topic)
        return snapshot
    finally:
        consumer.close()


def _drain(consumer: Consumer, ends: dict[int, int], snapshot: TopicSnapshot,
           decode: Callable[[bytes], Any], timeout_s: float, topic: str) -> None:
    """Consume until every partition's position passed its end (gaps such as transaction
    markers included)."""
    deadline = time.monotonic() + timeout_s
    remaining = dict(ends)
    while remaining:
        if time.monotonic() > deadline:
            raise CutoverError(f"reading {topic!r} did not reach its end within {timeout_s}s "
                               f"(partitions left: {sorted(remaining)})")
        for msg in consumer.consume(num_messages=5000, timeout=0.5):
            if msg.error() is not None:
                raise CutoverError(f"reading {topic!r}: {msg.error()}")
            partition, offset = msg.partition(), msg.offset()
            if partition in ends and offset is not None and offset < ends[partition]:
                value = msg.value()
                snapshot.records.append((msg.key(), None if value is None else decode(value)))
        positions = consumer.position([TopicPartition(topic, p) for p in remaining])
        for tp in positions:
            if tp.offset >= remaining[tp.partition]:
                del remaining[tp.partition]
