"""A steady synthetic load through the router, recording where every request went.

Each request's outcome is kept in a ledger: when it was sent, the router's slot that
answered (HAProxy's ``X-Cutover-Slot`` header), the version that slot held, the version
the service itself reported (its optional version header), the status and the latency
the client saw. So the split per weight step, the client-observed percentiles of each
version, and "every request answered" are proven from the ledger, for a service that
exports no metrics at all.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from harness.analysis.window import Window
from harness.data.injector import RateLimiter

SLOT_HEADER = "X-Cutover-Slot"

Request = tuple[str, str, str]  # method, path, body ("" for none)


@dataclass(frozen=True)
class Outcome:
    """One request: when, which slot and version answered ("" if none), status, latency.

    ``reported`` is the version the service named in its own header ("" without one).
    """

    ts: float
    version: str
    status: int
    latency_ms: float
    slot: str = ""
    reported: str = ""
    method: str = "GET"
    path: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    @property
    def answered(self) -> bool:
        """Whether the request got any HTTP response (a 5xx is an answer; a reset is not)."""
        return self.status != 0


def as_requests(paths: Sequence[str | Request]) -> list[Request]:
    """Plain paths become GETs; triples pass through."""
    return [("GET", p, "") if isinstance(p, str) else p for p in paths]


class LoadGenerator:
    """Sends the request mix in turn at ``rate_per_s`` from ``workers`` threads.

    Args:
        url: The router's URL.
        requests: Paths (GET) or ``(METHOD, PATH, BODY)`` triples, sent in turn.
        rate_per_s: Requests per second, all workers together.
        workers: Threads sending; a slow version holds one thread per request in flight.
        timeout_s: Per-request timeout (a timeout is recorded as status 0).
        version_of: Version label held by a router slot when the response came; without
            it a request's version is the one the service reported, else its slot.
        version_header: The service's own version header, if it sets one.
    """

    def __init__(self, url: str, requests: Sequence[str | Request], *,
                 rate_per_s: float = 50.0, workers: int = 4, timeout_s: float = 5.0,
                 version_of: Callable[[str], str] | None = None,
                 version_header: str = "") -> None:
        self.url, self.timeout_s = url.rstrip("/"), timeout_s
        self.requests = as_requests(requests)
        self.limiter = RateLimiter(rate_per_s)
        self.workers = workers
        self.version_of = version_of
        self.version_header = version_header
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._limiter_lock = threading.Lock()  # the token bucket is not thread-safe
        self._cycle = itertools.cycle(self.requests)
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
                    method, path, body = next(self._cycle)
                self._record(self._send(client, method, path, body), method, path)

    def _send(self, client: httpx.Client, method: str, path: str, body: str) \
            -> tuple[float, int, str, str, float]:
        started, sent = time.monotonic(), time.time()
        headers = {"content-type": "application/json"} if body[:1] in ("{", "[") else {}
        try:
            response = client.request(method, self.url + path, content=body or None,
                                      headers=headers)
            slot = response.headers.get(SLOT_HEADER, "")
            reported = response.headers.get(self.version_header, "") \
                if self.version_header else ""
            return sent, response.status_code, slot, reported, \
                (time.monotonic() - started) * 1000
        except httpx.HTTPError:
            return sent, 0, "", "", (time.monotonic() - started) * 1000

    def _record(self, sent: tuple[float, int, str, str, float], method: str,
                path: str) -> None:
        ts, status, slot, reported, latency_ms = sent
        version = self.version_of(slot) if self.version_of and slot else reported or slot
        outcome = Outcome(ts, version, status, latency_ms, slot, reported, method, path)
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

    def slot_window(self, slot: str, *, since: float = 0.0, until: float | None = None) \
            -> Window:
        """What the router's ``slot`` served between ``since`` and ``until``."""
        mine = [o for o in self.snapshot(since=since, until=until) if o.slot == slot]
        return Window.from_outcomes((o.ok, o.latency_ms) for o in mine)

    def __enter__(self) -> LoadGenerator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
