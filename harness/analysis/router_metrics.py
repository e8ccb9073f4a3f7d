"""Windows of each version judged from outside the service: the router and the ledger.

A service needs no metrics endpoint to be judged. Requests and 5xx answers of each
router slot come from HAProxy's per-server counters, scraped by Prometheus
(``haproxy_server_http_responses_total``); the latencies are the ones the load
generator's clients saw, per request, from its ledger (HAProxy only exports averages).
Requests the ledger saw fail without an HTTP answer (timeouts, resets) never reach
HAProxy's response counters, so the window's errors are the larger of the two counts:
a canary cannot hide behind either observer.

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
        """What ``slot`` served between ``start`` and ``end``, by both observers."""
        start = min(start, end - self.min_range_s)
        counts = self.router_counts(slot, start, end)
        ledger = self.load.snapshot(since=start, until=end)
        # unanswered requests carry no slot header: the router did not say who dropped
        # them, so each slot is charged with them and a failing version cannot hide
        return combine(counts, [o for o in ledger if o.slot == slot],
                       failed_unanswered=sum(not o.answered for o in ledger))

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


def combine(counts: SlotCounts, answered_by_slot: list[Outcome], *,
            failed_unanswered: int) -> Window:
    """The window of one slot: the router's request count, the worse of the two error
    counts, and the ledger's client-observed latencies."""
    ledger_errors = sum(not o.ok for o in answered_by_slot) + failed_unanswered
    requests = max(round(counts.requests), len(answered_by_slot))
    errors = min(max(round(counts.errors), ledger_errors), requests)
    return Window(requests, errors, [o.latency_ms for o in answered_by_slot])
