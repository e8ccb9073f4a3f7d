"""A steady synthetic load through the router, recording where every request went.

Each request's outcome (the version that answered, from the service's version header,
the status and the latency) is kept, so checks can prove the split per weight step and
that no request failed during a weight change unless a fault caused it.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

import httpx

from harness.analysis.window import Window
from harness.data.injector import RateLimiter

VERSION_HEADER = "X-Data-Tier-Version"


@dataclass(frozen=True)
class Outcome:
    """One request: when, which version answered ("" if none), status, latency."""

    ts: float
    version: str
    status: int
    latency_ms: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400


class LoadGenerator:
    """Sends GETs for ``paths`` in turn at ``rate_per_s`` from ``workers`` threads."""

    def __init__(self, url: str, paths: list[str], *, rate_per_s: float = 50.0,
                 workers: int = 4, timeout_s: float = 5.0) -> None:
        self.url, self.paths, self.timeout_s = url.rstrip("/"), paths, timeout_s
        self.limiter = RateLimiter(rate_per_s)
        self.workers = workers
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._limiter_lock = threading.Lock()  # the token bucket is not thread-safe
        self._paths = itertools.cycle(paths)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> LoadGenerator:
        for i in range(self.workers):
            thread = threading.Thread(target=self._run, name=f"load-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout_s + 5)
        return self.snapshot()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while self.limiter_acquire():
                with self._lock:
                    path = next(self._paths)
                started = time.monotonic()
                try:
                    response = client.get(self.url + path)
                    outcome = Outcome(time.time(), response.headers.get(VERSION_HEADER, ""),
                                      response.status_code,
                                      (time.monotonic() - started) * 1000)
                except httpx.HTTPError:
                    outcome = Outcome(time.time(), "", 0, (time.monotonic() - started) * 1000)
                with self._lock:
                    self.outcomes.append(outcome)

    def limiter_acquire(self) -> bool:
        with self._limiter_lock:
            return self.limiter.acquire(stop=self._stop)

    def snapshot(self, *, since: float = 0.0, until: float | None = None) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.ts >= since and (until is None or
                                                                    o.ts < until)]

    def window(self, version: str, *, since: float = 0.0, until: float | None = None) \
            -> Window:
        """What ``version`` served between ``since`` and ``until`` (unix times)."""
        mine = [o for o in self.snapshot(since=since, until=until) if o.version == version]
        return Window.from_outcomes((o.ok, o.latency_ms) for o in mine)

    def __enter__(self) -> LoadGenerator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
