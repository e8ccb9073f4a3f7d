"""The canary dashboard of the seed, as data: what the report shows side by side.

Stable against canary: requests, errors by response class, client-observed p50/p90/p99,
CPU and memory; the traffic that was set against the traffic observed at every step;
and the service's own metrics (e.g. repository operations by backend) where its policy
names them. Built from the ledger, the sampler and Prometheus at the end of a run, and
emitted as one ``canary.dashboard`` event the report renders.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from harness.traffic.load import Outcome


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.5 - 1e-9))
    return round(ordered[min(rank, len(ordered)) - 1], 2)


def code_class(status: int) -> str:
    return "no answer" if status == 0 else f"{status // 100}xx"


def version_table(ledger: list[Outcome], roles: dict[str, str],
                  usage: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per version that answered, stable first."""
    rows = []
    labels = sorted({o.version for o in ledger if o.version},
                    key=lambda v: (roles.get(v) != "stable", v))
    unanswered = sum(o.status == 0 for o in ledger)
    for label in labels:
        mine = [o for o in ledger if o.version == label]
        latencies = [o.latency_ms for o in mine]
        codes = Counter(code_class(o.status) for o in mine)
        errors = codes.get("5xx", 0)
        rows.append({
            "version": label, "role": roles.get(label, ""), "requests": len(mine),
            "errors": errors, "error_rate_pct": round(100 * errors / len(mine), 3)
            if mine else None,
            "by_code": dict(sorted(codes.items())),
            "p50_ms": percentile(latencies, 50), "p90_ms": percentile(latencies, 90),
            "p99_ms": percentile(latencies, 99), **usage.get(label, {})})
    if unanswered:
        rows.append({"version": "(no answer)", "role": "", "requests": unanswered,
                     "errors": unanswered, "by_code": {"no answer": unanswered}})
    return rows


def dashboard(*, ledger: list[Outcome], roles: dict[str, str], usage: dict[str, Any],
              steps: list[dict[str, Any]], app_metrics: list[dict[str, Any]]) \
        -> dict[str, Any]:
    """The dashboard's data: versions side by side, steps, the service's metrics."""
    return {"versions": version_table(ledger, roles, usage),
            "steps": [{k: s.get(k) for k in ("weight", "observed_pct", "router_pct",
                                              "tolerance_pct", "requests", "duration_s",
                                              "within_tolerance", "verdict")}
                      for s in steps],
            "app_metrics": app_metrics}
