"""The canary dashboard section of the report: tables from the ``canary.dashboard`` event.

Side by side, as the seed's dashboard lists it: each version's requests, errors by
response class, p50/p90/p99, CPU and memory; the traffic set against the traffic
observed at each step; the service's own metrics by version (DB metrics by backend
where the service exports them).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: object, unit: str = "") -> str:
    if value is None or value == "":
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}{unit}"
    return f"{value}{unit}"


def _mib(value: object) -> str:
    return f"{value / 2**20:.0f} MiB" if isinstance(value, int | float) else "n/a"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], plot: str) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return (f'<table class="dashboard" data-dashboard="{_e(plot)}"><thead><tr>{head}'
            f"</tr></thead><tbody>{body}</tbody></table>")


def dashboard_data(timeline: object) -> Mapping[str, Any] | None:
    """The last ``canary.dashboard`` event's details, if the timeline has one."""
    if not isinstance(timeline, list):
        return None
    found = [e for e in timeline if isinstance(e, Mapping)
             and e.get("kind") == "canary.dashboard"]
    return found[-1] if found else None


def dashboard_html(timeline: object) -> str:
    """The dashboard tables ('' when the scenario ran no canary)."""
    data = dashboard_data(timeline)
    if data is None:
        return ""
    versions = [v for v in data.get("versions", []) if isinstance(v, Mapping)]
    codes = sorted({c for v in versions for c in v.get("by_code", {})})
    version_rows = [[
        _e(v.get("version")), _e(v.get("role")), _num(v.get("requests")),
        _num(v.get("error_rate_pct"), " %"),
        *(_num(v.get("by_code", {}).get(c, 0)) for c in codes),
        _num(v.get("p50_ms"), " ms"), _num(v.get("p90_ms"), " ms"),
        _num(v.get("p99_ms"), " ms"), _num(v.get("cpu_cores_p90")),
        _num(v.get("cpu_limit_pct"), " %"), _mib(v.get("rss_bytes_peak")),
        _num(v.get("memory_limit_pct"), " %")] for v in versions]
    parts = ['<h3>Canary dashboard</h3>', _table(
        ["version", "role", "requests", "5xx rate", *codes, "p50", "p90", "p99",
         "CPU p90 (cores)", "CPU of limit", "memory peak", "memory of limit"],
        version_rows, "versions")]
    steps = [s for s in data.get("steps", []) if isinstance(s, Mapping)]
    if steps:
        parts.append(_table(
            ["set weight", "observed (ledger)", "observed (router)", "tolerance",
             "requests", "duration", "within", "analysis"],
            [[_num(s.get("weight"), " %"), _num(s.get("observed_pct"), " %"),
              _num(s.get("router_pct"), " %"), "±" + _num(s.get("tolerance_pct")),
              _num(s.get("requests")), _num(s.get("duration_s"), " s"),
              "yes" if s.get("within_tolerance") else "<b>NO</b>",
              html.escape(str(s.get("verdict") or ""))] for s in steps],
            "steps"))
    metrics = [m for m in data.get("app_metrics", []) if isinstance(m, Mapping)]
    if metrics:
        parts.append(_table(
            ["metric", "labels", "stable", "canary"],
            [[_e(m.get("name")), _e(m.get("labels")), _num(m.get("stable")),
              _num(m.get("canary"))] for m in metrics], "app-metrics"))
    return "\n".join(parts)
