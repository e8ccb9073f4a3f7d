"""Fakes of cutover's seams, for tests of code built on them: a clock, a router and a
metric source that behave as documented and record what they were asked (as httpx ships
``MockTransport``). Named as fakes; no scenario or integration test uses them."""

from __future__ import annotations

from collections.abc import Mapping

from harness.analysis import MetricSourceError, Sample
from harness.traffic.router import Router, check_percentages


class FakeClock:
    """Time that moves only when a test, or something sleeping on it, moves it.

    Stands in for ``time.time``/``time.monotonic`` (call it, or ``monotonic()``) and
    ``time.sleep`` (``sleep``, which records each sleep). ``min_sleep_s`` makes every
    sleep advance at least that much, for loops that may ask for a zero sleep.
    """

    def __init__(self, now: float = 1000.0, *, min_sleep_s: float = 0.0) -> None:
        self.now, self.min_sleep_s = now, min_sleep_s
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a negative sleep ({seconds} s) is a bug in the caller")
        self.sleeps.append(seconds)
        self.now += max(seconds, self.min_sleep_s)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeRouter(Router):
    """Weights kept in memory, each change recorded with the clock's time; request
    counters are whatever the test puts in ``counters``."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.current = {"stable": 100, "canary": 0}
        self.changes: list[tuple[float, int]] = []
        self.addresses: dict[str, tuple[str, int]] = {}
        self.counters = {"stable": 0, "canary": 0}

    def set_address(self, version: str, host: str, port: int) -> None:
        self.addresses[version] = (host, port)

    def set_weights(self, percentages: dict[str, int]) -> None:
        check_percentages(percentages)
        self.current = dict(percentages)
        self.changes.append((self.clock(), percentages["canary"]))

    def weights(self) -> dict[str, int]:
        return dict(self.current)

    def requests(self) -> dict[str, int]:
        return dict(self.counters)

    @property
    def canary_weights(self) -> list[int]:
        return [weight for _, weight in self.changes]


class FakeMetricSource:
    """Answers each known PromQL string with canned samples and records what was asked;
    ``online=False`` fails every query, as an unreachable Prometheus does."""

    def __init__(self, answers: Mapping[str, list[Sample]], *, online: bool = True) -> None:
        self.answers = dict(answers)
        self.online = online
        self.asked: list[tuple[str, float | None]] = []

    def query(self, promql: str, *, at: float | None = None) -> list[Sample]:
        self.asked.append((promql, at))
        if not self.online:
            raise MetricSourceError("fake source is offline; construct it with online=True")
        if promql not in self.answers:
            raise MetricSourceError(f"fake source has no answer for {promql!r}; add one")
        return list(self.answers[promql])

    def is_online(self) -> bool:
        return self.online
