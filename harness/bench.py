"""`cutover bench stack`: cold start per service and for the whole stack, and peak RSS.

Each figure is the median of several runs; the raw samples are printed too.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from harness.config import Config
from harness.stack.stack import Stack


def _cold_start(config: Config, names: list[str]) -> tuple[float, dict[str, float],
                                                            dict[str, int]]:
    with Stack(config, progress=lambda _msg: None) as stack:
        started = time.monotonic()
        stack.require(*names)
        total = time.monotonic() - started
        rss = {n: int(s.stats().get("peak_rss_bytes", 0)) for n, s in stack.services.items()}
        return total, dict(stack.timings_s), rss


def bench_stack(config: Config, *, services: list[str], runs: int = 3,
                progress: Callable[[str], None] = lambda _msg: None) -> dict[str, Any]:
    """Start each service alone, then all together, ``runs`` times; medians in JSON shape."""
    alone: dict[str, list[float]] = {n: [] for n in services}
    whole: list[float] = []
    rss: dict[str, list[int]] = {n: [] for n in services}
    for run in range(1, runs + 1):
        for name in services:
            progress(f"run {run}/{runs}: {name} alone")
            alone[name].append(_cold_start(config, [name])[0])
        progress(f"run {run}/{runs}: {', '.join(services)} together")
        total, _, peaks = _cold_start(config, services)
        whole.append(total)
        for name, value in peaks.items():
            rss[name].append(value)
    return {
        "benchmark": "stack",
        "provider": config["provider"],
        "runs": runs,
        "cold_start_s": {
            **{n: round(statistics.median(v), 3) for n, v in alone.items()},
            "stack": round(statistics.median(whole), 3),
        },
        "peak_rss_mib": {n: round(statistics.median(v) / 2**20, 1) for n, v in rss.items()},
        "samples": {
            "cold_start_s": {**{n: [round(x, 3) for x in v] for n, v in alone.items()},
                             "stack": [round(x, 3) for x in whole]},
            "peak_rss_mib": {n: [round(x / 2**20, 1) for x in v] for n, v in rss.items()},
        },
    }
