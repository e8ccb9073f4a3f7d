"""PrometheusMetricSource: the MetricSource of the local stack, over Prometheus's HTTP API."""

from __future__ import annotations

from typing import Any

import httpx

from harness.analysis.metrics import MetricSourceError, Sample
from harness.analysis.window import Window


class PrometheusMetricSource:
    """Instant PromQL queries against one Prometheus server."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def query(self, promql: str, *, at: float | None = None) -> list[Sample]:
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        try:
            response = httpx.get(f"{self.url}/api/v1/query", params=params,
                                 timeout=self.timeout_s)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise MetricSourceError(f"Prometheus at {self.url} did not answer {promql!r}: "
                                    f"{type(exc).__name__}: {exc}") from exc
        if body.get("status") != "success":
            raise MetricSourceError(f"Prometheus refused {promql!r}: {body.get('error', body)}")
        data = body["data"]
        if data["resultType"] != "vector":
            raise MetricSourceError(f"{promql!r} gave a {data['resultType']}, not a vector")
        return [Sample(dict(r["metric"]), float(r["value"][1]), float(r["value"][0]))
                for r in data["result"]]

    def is_online(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=self.timeout_s).status_code == 200
        except httpx.HTTPError:
            return False


def window_from_prometheus(source: PrometheusMetricSource, version: str, *, start: float,
                           end: float, metric: str) -> Window:
    """What ``version`` served between ``start`` and ``end``, from a service's own RED
    metrics (``<metric>_requests_total`` by version, route and status, and the
    ``<metric>_request_duration_seconds`` histogram), for services that export them; the
    canary run itself judges from the router and the ledger instead.

    Requests and errors are counter increases over the range (5xx are errors). Latencies
    come from the histogram's bucket increases: each request counts at its bucket's upper
    bound (the +Inf bucket at the largest finite bound), which is how far a histogram can
    be resolved; the judge's tests then compare these bucketed samples.
    """
    span = f"{max(1, round(end - start))}s"
    selector = f'version="{version}",route!="/health"'
    requests = _total(source.query(
        f"sum(increase({metric}_requests_total{{{selector}}}[{span}]))", at=end))
    errors = _total(source.query(
        f'sum(increase({metric}_requests_total{{{selector},status=~"5.."}}[{span}]))',
        at=end))
    buckets = source.query(f"sum by (le) (increase({metric}_request_duration_seconds_bucket"
                           f"{{{selector}}}[{span}]))", at=end)
    return Window(round(requests), min(round(errors), round(requests)),
                  _expand(buckets))


def _total(samples: list[Sample]) -> float:
    return sum(s.value for s in samples)


def _expand(buckets: list[Sample]) -> list[float]:
    """Per-request latency samples (ms) from cumulative bucket counts."""
    bounds = sorted((float(s.labels["le"]), s.value) for s in buckets)
    finite = [b for b in bounds if b[0] != float("inf")]
    latencies: list[float] = []
    previous = 0.0
    for bound, cumulative in bounds:
        count = round(cumulative - previous)
        previous = cumulative
        upper_ms = (bound if bound != float("inf") else (finite[-1][0] if finite else 0)) * 1000
        latencies += [upper_ms] * max(count, 0)
    return latencies
