"""PrometheusMetricSource: the MetricSource of the local stack, over Prometheus's HTTP API."""

from __future__ import annotations

from typing import Any

import httpx

from harness.analysis.metrics import MetricSourceError, Sample


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
