"""Source writes that keep flowing in the background, with a hold for a consistent read.

A platform scenario writes into its PostgreSQL tables all along, as the application
would. A check that compares an aggregate at one source position needs the writes to
stop for a moment: :meth:`WriteLoop.hold` waits until no batch is in flight and keeps
the next one back until :meth:`WriteLoop.resume`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness.data.postgres_writer import PostgresWriter


class WriteLoop:
    """Insert ``rows(n)`` (the n-th batch) every ``interval_s`` until :meth:`stop`."""

    def __init__(self, writer: PostgresWriter, rows: Callable[[int], list[dict[str, Any]]],
                 *, interval_s: float = 0.2) -> None:
        self.writer, self.rows, self.interval_s = writer, rows, interval_s
        self.batches = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # held while a batch is written, and by hold()
        self._held = False
        self._thread: threading.Thread | None = None

    def start(self) -> WriteLoop:
        self._thread = threading.Thread(target=self._run, name="source-writes", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self._lock:
                if self._held:
                    continue
                try:
                    self.writer.insert(self.rows(self.batches))
                except Exception as exc:  # kept for the caller; the loop ends
                    self.error = exc
                    return
                self.batches += 1

    def hold(self) -> None:
        """Return once no batch is in flight; no batch starts until :meth:`resume`."""
        with self._lock:
            self._held = True

    def resume(self) -> None:
        with self._lock:
            self._held = False

    @contextmanager
    def held(self) -> Iterator[None]:
        """No writes inside the block."""
        self.hold()
        try:
            yield
        finally:
            self.resume()

    def stop(self) -> None:
        """Stop writing; raises the error that ended the loop early, if any."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.error is not None:
            raise RuntimeError(f"background writes failed: {self.error}") from self.error
