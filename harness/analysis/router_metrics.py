"""Windows of each version judged from outside the service: the router and the ledger.

A service needs no metrics endpoint to be judged. Requests and 5xx answers of each
router slot come from HAProxy's per-server counters, scraped by Prometheus
(``haproxy_server_http_responses_total``); the latencies are the ones the load
generator's clients saw, per request, from its ledger (HAProxy only exports averages).
Requests the ledger saw fail without an HTTP answer (timeouts, resets) never reach
HAProxy's response counters, and errors HAProxy counted may never reach the ledger (a
client other than ours), so the window takes the ledger's errors plus the router's
excess: a canary cannot hide behind either observer.

If Prometheus cannot be queried the observation raises ``MetricSourceError``, which the
controller counts towards aborting: no promotion on missing metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analysis.metrics import MetricSourceError
from harness.analysis.prometheus import PrometheusMetricSource
from harness.analysis.window import Window
from harness.traffic.load import LoadGenerator, Outcome

MIN_RANGE_S = 4.0  # Prometheus's increase() needs two scrapes inside the range


@dataclass(frozen=True)
class SlotCounts:
    """What the router counted for one slot over a range."""

    requests: float
    errors: float


class RouterLedgerObserver:
    """``observe(start, end) -> (canary, stable)`` for the canary controller."""

    def __init__(self, source: PrometheusMetricSource, *, backend: str,
                 load: LoadGenerator, min_range_s: float = MIN_RANGE_S) -> None:
        self.source, self.backend, self.load = source, backend, load
        self.min_range_s = min_range_s

    def __call__(self, start: float, end: float) -> tuple[Window, Window]:
        return self.window("canary", start, end), self.window("stable", start, end)

    def window(self, slot: str, start: float, end: float) -> Window:
        """What ``slot`` served between ``start`` and ``end``, by both observers.

        The ledger gives the window exactly. The router's counts need a range of at
        least ``min_range_s`` (two scrapes), which may reach back before ``start``, so
        they are compared as a rate with the ledger's over that same range."""
        padded = min(start, end - self.min_range_s)
        counts = self.router_counts(slot, padded, end)
        ledger = self.load.snapshot(since=padded, until=end)
        return combine(counts, slot_outcomes(ledger, slot, padded),
                       slot_outcomes(ledger, slot, start))

    def router_counts(self, slot: str, start: float, end: float) -> SlotCounts:
        span = f"{max(1, round(end - start))}s"
        selector = f'proxy="{self.backend}",server="{slot}"'
        total = self.source.query(
            f"sum(increase(haproxy_server_http_responses_total{{{selector}}}[{span}]))",
            at=end)
        errors = self.source.query(
            f'sum(increase(haproxy_server_http_responses_total{{{selector},code="5xx"}}'
            f"[{span}]))", at=end)
        if not total and not any(s.value == 1 for s in self.source.query(
                'up{job="haproxy"}', at=end)):
            raise MetricSourceError(
                f"Prometheus has no HAProxy counters for {self.backend}/{slot} and its "
                "haproxy scrape job is not up (see the targets page of Prometheus)")
        # HAProxy exports no series for a server still in maintenance: it served nothing
        return SlotCounts(sum(s.value for s in total), sum(s.value for s in errors))


@dataclass(frozen=True)
class SlotOutcomes:
    """What the ledger saw of one slot over a range."""

    answered: list[Outcome]
    unanswered: int  # failed without an answer: charged to every slot

    @property
    def requests(self) -> int:
        return len(self.answered) + self.unanswered

    @property
    def errors(self) -> int:
        return sum(not o.ok for o in self.answered) + self.unanswered


def slot_outcomes(ledger: list[Outcome], slot: str, since: float) -> SlotOutcomes:
    """The ledger's outcomes of ``slot`` from ``since`` on.

    Unanswered requests carry no slot header: the router did not say who dropped them,
    so each slot is charged with them and a failing version cannot hide."""
    recent = [o for o in ledger if o.ts >= since]
    return SlotOutcomes([o for o in recent if o.answered and o.slot == slot],
                        sum(not o.answered for o in recent))


def combine(counts: SlotCounts, over_range: SlotOutcomes, window: SlotOutcomes) -> Window:
    """The window of one slot: the ledger's requests, errors and client-observed
    latencies in the window, plus the errors the router saw and the ledger did not.

    ``counts`` and ``over_range`` cover the same (longer) range. Where the router's
    error rate there is above the ledger's, the difference is charged to the window's
    requests, so a canary cannot hide behind either observer; comparing rates, not
    counts, keeps the earlier part of the range from diluting a fault that began in
    the window."""
    errors = window.errors
    if counts.requests >= 1 and over_range.requests:
        excess = counts.errors / counts.requests - over_range.errors / over_range.requests
        errors += max(0, round(excess * window.requests))
    return Window(window.requests, min(errors, window.requests),
                  [o.latency_ms for o in window.answered])
