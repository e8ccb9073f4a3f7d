"""Sinks as consumers read them, and the checks that need their raw records.

A Kafka sink is read up to its end. For an upsert table the live view is what a consumer
keyed by the message key holds: the last record per *key bytes*, tombstones removing
keys. Two encodings of one primary key are two live rows to such a consumer, so
duplicates are counted by the primary key *decoded from the row*, not by the bytes. For
an append table every record is a row.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.checks.decode import RecordDecoder
from harness.checks.result import EXAMPLES, CheckResult
from harness.readers import TopicSnapshot, read_topic

Row = dict[str, Any]


def decode_key(raw: bytes | None) -> Any:
    """A message key as a value: JSON when it is JSON, else its text (None stays None)."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


@dataclass
class SinkSnapshot:
    """Every record of one sink table up to its end at read time.

    Attributes:
        table: The physical table (a versioned name such as ``int_x_v2``).
        topic: Its topic.
        key: Its primary-key columns (empty for an append table without one).
        upsert: Whether consumers read it with upsert semantics.
        records: ``(key bytes, decoded value or None)`` in log order.
    """

    table: str
    topic: str
    key: list[str]
    upsert: bool
    records: list[tuple[bytes | None, Row | None]] = field(default_factory=list)

    def live(self) -> list[tuple[bytes | None, Row]]:
        """The rows a consumer holds: the last per key bytes (upsert), or all (append)."""
        if not self.upsert:
            return [(k, v) for k, v in self.records if v is not None]
        return list(TopicSnapshot(list(self.records)).upsert_view().items())

    def rows(self) -> list[Row]:
        return [row for _, row in self.live()]

    def row_key(self, row: Row) -> Any:
        """The primary key of a row from its own columns (one value, or a tuple)."""
        if len(self.key) == 1:
            return row.get(self.key[0])
        return tuple(row.get(k) for k in self.key)

    def key_bytes(self) -> dict[Any, bytes | None]:
        """Decoded primary key -> the key bytes it is written under (last seen)."""
        return {self.row_key(row): raw for raw, row in self.live()}


def read_sink(bootstrap_servers: str, topic: str, *, table: str, key: list[str],
              upsert: bool, decode: Callable[[bytes], Any] | None = None) -> SinkSnapshot:
    """Read a sink table's topic from its start to its end now (JSON unless ``decode``)."""
    snapshot = read_topic(bootstrap_servers, topic, decode=decode or RecordDecoder())
    return SinkSnapshot(table, topic, list(key), upsert, list(snapshot.records))


def no_duplicates_by_key(sink: SinkSnapshot, *, identity: list[str] | None = None) \
        -> CheckResult:
    """No two live rows share a primary key, whatever bytes their message keys are.

    For an append table, ``identity`` (the columns that identify one event, e.g. the key
    a source column carries into it) replaces the missing primary key; without either,
    whole rows are compared. Changelog repeats (the same value written twice in a row for
    one key) are counted as evidence: in an upsert table they are harmless to consumers.
    """
    columns = list(identity or sink.key)
    live = sink.live()

    def ident(row: Row) -> Any:
        if not columns:
            return json.dumps(row, sort_keys=True, default=str)
        return row.get(columns[0]) if len(columns) == 1 else tuple(row.get(c) for c in columns)

    counts = Counter(ident(row) for _, row in live)
    dupes = {k: n for k, n in counts.items() if n > 1}
    encodings: dict[Any, set[bytes | None]] = {}
    for raw, row in live:
        encodings.setdefault(ident(row), set()).add(raw)
    multi = {k: sorted(str(b) for b in v) for k, v in encodings.items() if len(v) > 1}
    repeats = _changelog_repeats(sink)
    what = (f"live rows by the decoded primary key {columns}" if sink.upsert else
            f"append rows by {columns or 'whole row'}")
    return CheckResult(
        f"no_duplicates({sink.table})", not dupes,
        f"{len(dupes)} duplicated keys among {len(live)} {what}",
        {"sink": sink.table, "topic": sink.topic, "compared": what, "rows": len(live),
         "records": len(sink.records), "duplicated_keys": len(dupes),
         "examples": [[str(k), n] for k, n in sorted(dupes.items(), key=str)[:EXAMPLES]],
         "keys_under_several_encodings": dict(list(sorted(multi.items(), key=str))[:EXAMPLES]),
         "changelog_repeats": repeats})


def _changelog_repeats(sink: SinkSnapshot) -> int:
    last: dict[bytes | None, Row | None] = {}
    repeats = 0
    for raw, value in sink.records:
        if value is not None and last.get(raw) == value:
            repeats += 1
        last[raw] = value
    return repeats


def same_key_encoding(v1: SinkSnapshot, v2: SinkSnapshot) -> CheckResult:
    """Rows of one primary key are written under the same message-key bytes in v1 and v2.

    Consumers that look rows up by key (compaction, lookups, stream-table joins) would
    otherwise hold a v1 row and a v2 row for one key after promotion.
    """
    k1, k2 = v1.key_bytes(), v2.key_bytes()
    common = k1.keys() & k2.keys()
    differ = sorted((k for k in common if k1[k] != k2[k]), key=str)
    return CheckResult(
        f"same_key_encoding({v1.table}, {v2.table})", not differ,
        f"{len(differ)} of {len(common)} common keys are encoded differently",
        {"v1": v1.table, "v2": v2.table, "common_keys": len(common), "differ": len(differ),
         "examples": [{"key": str(k), "v1": str(k1[k]), "v2": str(k2[k])}
                      for k in differ[:EXAMPLES]]})
