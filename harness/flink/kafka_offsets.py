"""Where a Flink KafkaSource is, and where Kafka's partitions end: the facts of settling.

A source's position comes from its ``KafkaSourceReader`` partition metrics (what they
mean is in :mod:`harness.flink.settle`); ``.`` in topic names is reported as ``_``.
:class:`KafkaOffsets` reads each partition's low watermark, read_committed end (the last
stable offset, LSO) and high watermark with three batched ListOffsets requests (a high
watermark above the LSO is an open transaction), and probes whether the gap between a
source's position and the LSO holds any record a read_committed consumer sees: it may hold
only transaction commit markers or aborted records.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from confluent_kafka import Consumer, IsolationLevel, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

Key = tuple[str, int]
_METRIC = re.compile(r"^\d+\.[^.]+\.KafkaSourceReader\.topic\.(?P<topic>.+)\.partition\."
                     r"(?P<partition>\d+)\.(?P<metric>currentOffset|committedOffset)$")


@dataclass(frozen=True)
class PartitionEnds:
    """Offsets of one partition: first, read_committed end (LSO), high watermark."""

    low: int
    stable: int
    high: int


def gap(next_offset: int | None, ends: PartitionEnds) -> tuple[int, int] | None:
    """The offsets a source has not read yet.

    Args:
        next_offset: The next offset the source reads; None if it read nothing.
        ends: The partition's offsets now.

    Returns:
        ``(start, LSO)``, or None when there is nothing left (an empty partition too).
    """
    start = ends.low if next_offset is None else max(next_offset, ends.low)
    return (start, ends.stable) if start < ends.stable else None


def name_of(key: Key) -> str:
    """``topic[partition]``."""
    return f"{key[0]}[{key[1]}]"


@dataclass(frozen=True)
class SourceMetric:
    """A parsed ``<subtask>.<operator>.KafkaSourceReader...`` partition metric id."""

    topic: str  # as Flink reports it: maybe sanitised
    partition: int
    metric: str  # currentOffset | committedOffset


def parse_source_metric(metric_id: str) -> SourceMetric | None:
    """Parse a vertex metric id of ``GET /jobs/<j>/vertices/<v>/metrics``.

    Returns:
        The topic (as reported), partition and metric name; None for any other metric.
    """
    m = _METRIC.match(metric_id)
    return None if m is None else SourceMetric(m["topic"], int(m["partition"]), m["metric"])


def resolve_topic(reported: str, topics: Iterable[str]) -> list[str]:
    """The existing topics a metric's topic name may stand for.

    Returns:
        ``[reported]`` if it exists, else every topic whose dots, made ``_``, give it.
    """
    known = set(topics)
    return [reported] if reported in known else sorted(
        t for t in known if t.replace(".", "_") == reported)


def position(current: int, committed: int) -> int | None:
    """The next offset a source reads.

    Args:
        current: ``currentOffset``: the last record emitted, or -1.
        committed: ``committedOffset``: the next offset as of a checkpoint, or -1.

    Returns:
        The larger of ``current + 1`` and ``committed``; None if both are unknown.
    """
    best = max(current + 1 if current >= 0 else -1, committed)
    return best if best >= 0 else None


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
        """Returns the partition count of every topic."""
        meta = self.admin.list_topics(timeout=10).topics
        return {n: len(t.partitions) for n, t in meta.items() if t.error is None}

    def ends(self, keys: Iterable[Key]) -> dict[Key, PartitionEnds]:
        """Returns the offsets of the partitions ``keys``; those that fail are left out."""
        tps = [TopicPartition(t, p) for t, p in sorted(set(keys))]
        asks = [(OffsetSpec.earliest(), IsolationLevel.READ_UNCOMMITTED),  # type: ignore[no-untyped-call]
                (OffsetSpec.latest(), IsolationLevel.READ_COMMITTED),  # type: ignore[no-untyped-call]
                (OffsetSpec.latest(), IsolationLevel.READ_UNCOMMITTED)]  # type: ignore[no-untyped-call]
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
        """Whether each partition's ``[start, end)`` holds a committed record.

        Args:
            ranges: Partition -> offsets to look at.
            timeout_s: Longest time to read.

        Returns:
            Partition -> True if a record is there; partitions still unresolved at the
            timeout are left out (the caller counts them as behind).
        """
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
        """Close the consumer (the admin client needs no closing)."""
        self.consumer.close()
