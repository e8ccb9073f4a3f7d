"""Kafka offsets for settling: batched end offsets and probes of offset gaps.

``ends`` reads each partition's low watermark, read_committed end (the last stable
offset, LSO) and high watermark with three batched ListOffsets requests; a high watermark
above the LSO means an open transaction. ``has_records`` tells whether a range of offsets
holds any record a read_committed consumer sees: the gap between a source's position and
the LSO may hold only transaction commit markers or aborted records.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from confluent_kafka import Consumer, IsolationLevel, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

Key = tuple[str, int]


@dataclass(frozen=True)
class PartitionEnds:
    """Offsets of one partition: first, read_committed end (LSO), high watermark."""

    low: int
    stable: int
    high: int


def gap(next_offset: int | None, ends: PartitionEnds) -> tuple[int, int] | None:
    """The offsets [start, LSO) a source has not read; None when there are none."""
    start = ends.low if next_offset is None else max(next_offset, ends.low)
    return (start, ends.stable) if start < ends.stable else None


def name_of(key: Key) -> str:
    """``topic[partition]``."""
    return f"{key[0]}[{key[1]}]"


class OffsetSource(Protocol):
    """What the settler needs from Kafka (the real one is :class:`KafkaOffsets`)."""

    def topics(self) -> dict[str, int]: ...
    def ends(self, keys: Iterable[Key]) -> dict[Key, PartitionEnds]: ...
    def has_records(self, ranges: Mapping[Key, tuple[int, int]],
                    timeout_s: float) -> dict[Key, bool]: ...
    def close(self) -> None: ...


class KafkaOffsets:
    """End offsets (batched ListOffsets) and gap probes (a read_committed consumer)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.admin = AdminClient({"bootstrap.servers": bootstrap_servers})
        self.consumer = Consumer({"bootstrap.servers": bootstrap_servers,
                                  "group.id": f"cutover-settle-{uuid.uuid4().hex}",
                                  "enable.auto.commit": False, "fetch.wait.max.ms": 10,
                                  "isolation.level": "read_committed"})

    def topics(self) -> dict[str, int]:
        """Partition count of every topic."""
        meta = self.admin.list_topics(timeout=10).topics
        return {n: len(t.partitions) for n, t in meta.items() if t.error is None}

    def ends(self, keys: Iterable[Key]) -> dict[Key, PartitionEnds]:
        """Low watermark, LSO and high watermark; partitions that fail are left out."""
        tps = [TopicPartition(t, p) for t, p in sorted(set(keys))]
        asks = [(OffsetSpec.earliest(), IsolationLevel.READ_UNCOMMITTED),  # type: ignore
                (OffsetSpec.latest(), IsolationLevel.READ_COMMITTED),  # type: ignore
                (OffsetSpec.latest(), IsolationLevel.READ_UNCOMMITTED)]  # type: ignore
        futures = [self.admin.list_offsets({tp: spec for tp in tps}, isolation_level=iso,
                                           request_timeout=10) for spec, iso in asks] if tps else []
        out: dict[Key, PartitionEnds] = {}
        for tp in tps:
            try:
                out[(tp.topic, tp.partition)] = PartitionEnds(
                    *(f[tp].result().offset for f in futures))
            except Exception:  # a deleted topic: the settler reports it missing
                continue
        return out

    def has_records(self, ranges: Mapping[Key, tuple[int, int]],
                    timeout_s: float) -> dict[Key, bool]:
        """Whether each [start, end) holds a committed record; unresolved ones left out."""
        out: dict[Key, bool] = {}
        self.consumer.assign([TopicPartition(t, p, s) for (t, p), (s, _) in ranges.items()])
        deadline = time.monotonic() + timeout_s
        try:
            while len(out) < len(ranges) and time.monotonic() < deadline:
                for msg in self.consumer.consume(num_messages=100, timeout=0.05):
                    key = (str(msg.topic()), int(msg.partition() or 0))
                    if msg.error() is None and key in ranges and \
                            int(msg.offset() or 0) < ranges[key][1]:
                        out.setdefault(key, True)
                left = [TopicPartition(*k) for k in ranges if k not in out]
                for tp in self.consumer.position(left) if left else []:
                    if tp.offset >= ranges[(tp.topic, tp.partition)][1]:
                        out[(tp.topic, tp.partition)] = False
        finally:
            self.consumer.unassign()
        return out

    def close(self) -> None:
        self.consumer.close()
