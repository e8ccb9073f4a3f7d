"""`cutover bench canary-accuracy`: how often the analysis is wrong, measured.

The canary runbook names "flaky tests causing false rollbacks" as a risk. This bench
runs a healthy canary of a service many times (give it the same realistic noise as the
stable version: latency jitter, rare 5xx) and a bad canary as many times, on the real
router and Prometheus, and prints the false-rollback rate, the detection rate with
their run counts, and how long the bad canary had traffic before the FAIL verdict. The
README shows it on the reference inventory service.
"""

from __future__ import annotations

import statistics
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


def _target(spec: dict[str, Any], canary: str, run: int) -> ServiceTarget:
    seed = f" --seed {run}" if spec.get("seeded") else ""
    return ServiceTarget.parse(stable=spec["stable"] + seed, canary=canary + seed,
                               name=spec.get("name", "service"),
                               health_path=spec.get("health", "/health"),
                               values_root=spec["values_root"], requests=spec.get("requests"))


def _one(target: ServiceTarget, wiring: RouterWiring, owner: Stack, values: Path,
         compression_factor: float) -> dict[str, Any]:
    policy = run_policy(values, root=target.values_root,
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


def bench_canary_accuracy(config: Config, spec: dict[str, Any], *, runs: int = 20,
                          compression_factor: float = 300,
                          progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """``runs`` healthy and ``runs`` bad canaries; the error rates of the analysis.

    ``spec`` names the service: ``stable``, ``canary`` (healthy, with the same noise as
    stable) and ``bad_canary`` commands with ``{port}``, ``values``, ``values_root``,
    ``health``, ``requests`` (mix text), and ``seeded`` (append ``--seed N`` per run).
    """
    values = Path(spec["values"])
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
            healthy.append(_one(_target(spec, spec["canary"], 100 + 2 * i), wiring, stack,
                                values, compression_factor))
            progress(f"healthy run {i + 1}/{runs}: {healthy[-1]['outcome']}")
        for i in range(runs):
            bad.append(_one(_target(spec, spec["bad_canary"], 500 + 2 * i), wiring, stack,
                            values, compression_factor))
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
        "stable": spec["stable"], "canary": spec["canary"], "bad_canary": spec["bad_canary"],
        "compression_factor": compression_factor,
        "wall_s": round(time.monotonic() - started, 1)}
