"""Record counts of topics over time, as ``sample`` events, for the report's plots.

Blue/green runs v1 and v2 of a table side by side; how many records each has written,
and how far v2 trails v1, is what people look at while v2 catches up. A background
thread reads the topics' end offsets every ``interval_s`` (a metadata request, no
consuming) and records one ``sample`` event per topic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, TopicPartition

from harness.events import EventLog


class TopicCountSampler:
    """Samples the record counts (sum of end offsets) of ``tables`` → topic."""

    def __init__(self, bootstrap_servers: str, tables: dict[str, str], events: EventLog, *,
                 interval_s: float = 1.0) -> None:
        self.tables, self.events, self.interval_s = dict(tables), events, interval_s
        self._consumer = Consumer({"bootstrap.servers": bootstrap_servers,
                                   "group.id": "cutover-sampler", "enable.auto.commit": False})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="topic-sampler", daemon=True)

    def start(self) -> TopicCountSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._consumer.close()

    def sample_once(self) -> dict[str, int]:
        counts = {}
        for table, topic in self.tables.items():
            count = self._count(topic)
            if count is not None:
                counts[table] = count
                self.events.emit("sample", series="records", table=table, value=count)
        return counts

    def _count(self, topic: str) -> int | None:
        try:
            metadata = self._consumer.list_topics(topic, timeout=5).topics.get(topic)
            if metadata is None or metadata.error is not None:
                return None
            total = 0
            for partition in metadata.partitions:
                _low, high = self._consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=5, cached=False)
                total += high
            return total
        except KafkaException:
            return None  # a topic deleted by a rollback: no sample, not an error

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample_once()
            self._stop.wait(self.interval_s)


def sample_redeployed(bootstrap_servers: str, pairs: list[tuple[str, str]],
                      topic_of: Callable[[str], str], events: EventLog) -> TopicCountSampler:
    """Record v1 and v2 record counts of every redeployed table from now on.

    ``pairs`` are ``(v1 table, v2 table)``; a ``bluegreen.pairs`` event names them so the
    report can plot each pair together.
    """
    events.emit("bluegreen.pairs", pairs=[list(p) for p in pairs])
    tables = {name: topic_of(name) for pair in pairs for name in pair}
    return TopicCountSampler(bootstrap_servers, tables, events).start()
