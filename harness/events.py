"""The event timeline of a run: every deploy step, check and fault, with a timestamp.

Events are appended to a JSONL file as they happen (when a path is given), so a crash
still leaves the timeline behind.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Event:
    """One thing that happened: ``kind`` says what, ``details`` the values behind it."""

    ts: float
    kind: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "kind": self.kind, **self.details}


class EventLog:
    """Thread-safe, append-only list of events, mirrored to JSONL when ``path`` is set.

    ``listener`` sees every event after it is written (progress output); its errors are
    its own and never lose an event.
    """

    def __init__(self, path: Path | None = None, *,
                 listener: Callable[[Event], None] | None = None) -> None:
        self.path = path
        self.listener = listener
        self.events: list[Event] = []
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def emit(self, kind: str, **details: Any) -> Event:
        event = Event(time.time(), kind, details)
        with self._lock:
            self.events.append(event)
            if self.path is not None:
                with self.path.open("a") as handle:
                    handle.write(json.dumps(event.to_dict(), default=str) + "\n")
        if self.listener is not None:
            with contextlib.suppress(Exception):  # progress output never breaks a run
                self.listener(event)
        return event

    def of_kind(self, kind: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.kind == kind]
