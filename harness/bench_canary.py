"""`cutover bench canary-accuracy`: how often the analysis is wrong, measured.

The canary runbook names "flaky tests causing false rollbacks" as a risk. This bench
runs a healthy canary many times with realistic noise (exponential latency jitter and
rare 5xx, the same on both versions) and a bad canary (a 12 % error rate, well above
the 5 % rollback threshold) as many times, on the real router and Prometheus, and
prints the false-rollback rate, the detection rate with their run counts, and how long
the bad canary had traffic before the FAIL verdict.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.config import Config
from harness.deploy.target import ServiceTarget
from harness.events import EventLog
from harness.stack.endpoint import HaproxyEndpoint, PrometheusEndpoint
from harness.stack.stack import Stack
from harness.strategy.canary_run import CanaryRun, RouterWiring, run_policy

POLICIES = Path(__file__).parents[1] / "fixtures" / "policies"
NOISE = "--error-rate 0.003 --jitter-ms 25"
BAD_ERROR_RATE = 0.12
REQUESTS = "GET /items/1\nGET /items/42\nGET /items?limit=20\nGET /items/977\n"


def _target(canary_flags: str, seed: int) -> ServiceTarget:
    service = f"{sys.executable} -m fixtures.services.inventory --port {{port}}"
    return ServiceTarget.parse(
        stable=f"{service} --release v1 {NOISE} --seed {seed}",
        canary=f"{service} --release v2 {NOISE} --seed {seed + 1} {canary_flags}",
        name="inventory", health_path="/healthz", values_root="inventory.rollout",
        requests=REQUESTS)


def _one(target: ServiceTarget, wiring: RouterWiring, owner: Stack,
         compression_factor: float) -> dict[str, Any]:
    policy = run_policy(POLICIES / "inventory-values.yaml", root="inventory.rollout",
                        compression_factor=compression_factor)
    events = EventLog()
    with tempfile.TemporaryDirectory(prefix="cutover-accuracy-") as workdir:
        run = CanaryRun(target=target, policy=policy, wiring=wiring, workdir=Path(workdir),
                        events=events, owner=owner)
        with run:
            outcome = run.run()
    shifted = next((e.details["at"] for e in events.of_kind("canary.phase")
                    if e.details.get("phase") == "analysing"), None)
    failed = next((e.details["at"] for e in events.of_kind("canary.analysis")
                   if e.details.get("verdict") == "fail"), None)
    verdicts = [e.details.get("verdict") for e in events.of_kind("canary.analysis")]
    fail = next((e.details for e in events.of_kind("canary.analysis")
                 if e.details.get("verdict") == "fail"), None)
    return {"outcome": outcome.outcome, "weight": outcome.decided_at_weight,
            "reason": outcome.reason[:300],
            "fail_values": {k: v for k, v in (fail or {}).get("values", {}).items()
                            if k.startswith(("canary_", "stable_"))},
            "traffic_to_verdict_s": round(failed - shifted, 2)
            if failed is not None and shifted is not None else None,
            "marginal": verdicts.count("marginal"), "samples": len(verdicts)}


def bench_canary_accuracy(config: Config, *, runs: int = 20, compression_factor: float = 300,
                          progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """``runs`` healthy and ``runs`` bad canaries; the error rates of the analysis."""
    started = time.monotonic()
    with Stack(config, progress=progress) as stack:
        eps = stack.require("haproxy", "prometheus")
        haproxy, prometheus = eps["haproxy"], eps["prometheus"]
        assert isinstance(haproxy, HaproxyEndpoint)
        assert isinstance(prometheus, PrometheusEndpoint)
        wiring = RouterWiring(haproxy.url, haproxy.admin_socket, haproxy.backend,
                              prometheus.url, prometheus.targets_file)
        healthy, bad = [], []
        for i in range(runs):
            healthy.append(_one(_target("", 100 + 2 * i), wiring, stack, compression_factor))
            progress(f"healthy run {i + 1}/{runs}: {healthy[-1]['outcome']}")
        for i in range(runs):
            bad.append(_one(_target(f"--error-rate {BAD_ERROR_RATE}", 500 + 2 * i), wiring,
                            stack, compression_factor))
            progress(f"bad run {i + 1}/{runs}: {bad[-1]['outcome']} at {bad[-1]['weight']} %")
    false = [r for r in healthy if r["outcome"] != "promoted"]
    missed = [r for r in bad if r["outcome"] != "rolled_back"]
    caught = [r for r in bad if r["outcome"] == "rolled_back"]
    times = [r["traffic_to_verdict_s"] for r in caught if r["traffic_to_verdict_s"]]
    return {
        "healthy_runs": len(healthy), "false_rollbacks": len(false),
        "false_rollback_rate": len(false) / len(healthy) if healthy else None,
        "healthy_outcomes": sorted({r["outcome"] for r in healthy}),
        "bad_runs": len(bad), "detected": len(caught),
        "detection_rate": len(caught) / len(bad) if bad else None,
        "detected_at_weight": sorted({r["weight"] for r in caught}),
        "canary_traffic_to_verdict_s": {
            "median": statistics.median(times) if times else None,
            "max": max(times) if times else None},
        "marginal_samples_healthy": sum(r["marginal"] for r in healthy),
        "samples_healthy": sum(r["samples"] for r in healthy),
        "false_rollback_runs": false, "missed_runs": missed,
        "noise": NOISE, "bad_error_rate": BAD_ERROR_RATE,
        "compression_factor": compression_factor,
        "wall_s": round(time.monotonic() - started, 1)}
