"""What a writer sent and what the broker acknowledged, as evidence for checks.

Every event (``sent``, ``acked``, ``failed``) is kept in order with a monotonic timestamp
``t`` and a sequence number ``n``. Given a ``path``, each event is also appended to a JSON
Lines file and flushed as it happens, so a crashed run still leaves its evidence (flushed
to the operating system, not fsynced: it survives the process, not the machine).

An acknowledgement or failure settles the oldest unsettled send of its topic and key. That
pairs them correctly because Kafka reports deliveries of one key (one partition) in the
order they were produced.

Records are stored as their JSON round trip (``json.dumps(..., default=str)``), i.e. as
the bytes a consumer sees, and identical whether the ledger was built live or read back.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from harness.errors import CutoverError

Record = dict[str, Any]
Event = dict[str, Any]
EVENT_KINDS = ("sent", "acked", "failed")


class LedgerError(CutoverError):
    """An event contradicts the ledger, or a ledger file cannot be read."""


class Ledger:
    """A thread-safe log of records sent to Kafka and their delivery outcomes.

    Args:
        path: Optional JSON Lines file that every event is appended to as it happens.
        clock: Source of the monotonic timestamps (injectable for tests).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path) if path is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._pending: dict[tuple[str, str], deque[tuple[int, Record]]] = {}
        self._latest: dict[str, dict[str, Record]] = {}
        self._counts: dict[str, Counter[str]] = {}
        self._failures: dict[str, list[tuple[str, str]]] = {}
        self._file: IO[str] | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")

    def sent(self, topic: str, key: str, record: Record) -> None:
        """Record that ``record`` was handed to the producer under ``key``."""
        frozen = json.loads(json.dumps(record, default=str))
        self._add({"event": "sent", "topic": topic, "key": key, "record": frozen})

    def acked(self, topic: str, key: str, partition: int, offset: int) -> None:
        """Record that the broker acknowledged the oldest unsettled send of ``key``.

        Raises:
            LedgerError: Nothing was sent under ``key`` that is still unsettled.
        """
        self._add({"event": "acked", "topic": topic, "key": key, "partition": partition,
                   "offset": offset})

    def failed(self, topic: str, key: str, error: str) -> None:
        """Record that the oldest unsettled send of ``key`` was not delivered."""
        self._add({"event": "failed", "topic": topic, "key": key, "error": error})

    def _add(self, event: Event) -> None:
        with self._lock:
            event = {"n": len(self._events), "t": self._clock(), **event}
            self._apply(event)
            if self._file is not None:
                self._file.write(json.dumps(event, default=str) + "\n")
                self._file.flush()

    def _apply(self, event: Event) -> None:
        """Fold one event into the state; the caller holds the lock."""
        kind, topic, key = event["event"], event["topic"], event["key"]
        if kind not in EVENT_KINDS:
            raise LedgerError(f"unknown ledger event {kind!r}; expected one of {EVENT_KINDS}")
        pending = self._pending.setdefault((topic, key), deque())
        if kind == "sent":
            pending.append((event["n"], event["record"]))
        elif not pending:
            raise LedgerError(f"{kind} event for key {key!r} of topic {topic!r}, which has no "
                              "unsettled send; call sent() before producing")
        else:
            _, record = pending.popleft()
            if kind == "acked":
                latest = self._latest.setdefault(topic, {})
                latest.pop(key, None)  # re-insert: iteration follows each key's latest ack
                latest[key] = record
            else:
                self._failures.setdefault(topic, []).append((key, event["error"]))
        self._counts.setdefault(topic, Counter())[kind] += 1
        self._events.append(event)

    def acked_keys(self, topic: str) -> set[str]:
        """Keys of ``topic`` with at least one acknowledged record."""
        with self._lock:
            return set(self._latest.get(topic, {}))

    def latest_acked(self, topic: str) -> dict[str, Record]:
        """The last acknowledged version of each key of ``topic``.

        "Last" is by acknowledgement order; the dict iterates in order of each key's
        latest acknowledgement.
        """
        with self._lock:
            return dict(self._latest.get(topic, {}))

    def unacked(self, topic: str) -> list[tuple[str, Record]]:
        """Sends of ``topic`` neither acknowledged nor failed, as (key, record) in send order."""
        with self._lock:
            open_sends = [(n, key, record) for (t, key), sends in self._pending.items()
                          if t == topic for n, record in sends]
        return [(key, record) for _, key, record in sorted(open_sends, key=lambda s: s[0])]

    def failures(self, topic: str) -> list[tuple[str, str]]:
        """Failed deliveries of ``topic`` as (key, error), in the order reported."""
        with self._lock:
            return list(self._failures.get(topic, []))

    def counts(self) -> dict[str, dict[str, int]]:
        """``{topic: {"sent": n, "acked": n, "failed": n}}`` for every topic seen."""
        with self._lock:
            return {topic: {kind: counter[kind] for kind in EVENT_KINDS}
                    for topic, counter in self._counts.items()}

    def events(self) -> list[Event]:
        """A copy of every event so far, in order."""
        with self._lock:
            return [dict(e) for e in self._events]

    def to_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write every event so far to ``path`` (replacing it), one JSON object per line."""
        lines = [json.dumps(event, default=str) + "\n" for event in self.events()]
        Path(path).write_text("".join(lines), encoding="utf-8")

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> Ledger:
        """A ledger holding the events of a JSON Lines file (without appending to it).

        A last line cut short by a crash (no newline, not valid JSON) is ignored.

        Raises:
            LedgerError: A complete line is not a ledger event.
        """
        ledger = cls()
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                if number == len(lines):  # no newline: the last write of a crashed writer
                    break
                raise LedgerError(f"{path}:{number} is not JSON ({exc}); the file was edited "
                                  "or is not a ledger") from exc
            try:
                with ledger._lock:
                    ledger._apply(event)
            except (KeyError, TypeError, LedgerError) as exc:
                raise LedgerError(f"{path}:{number} is not a valid ledger event ({exc!r}); "
                                  "the file was edited or is not a ledger") from exc
        return ledger

    def close(self) -> None:
        """Close the JSON Lines file, if any; later events are kept in memory only."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
