"""Checks of a canary's outcome: did a failing canary get rolled back, and in time?"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from harness.checks.result import EXAMPLES, CheckResult


class Served(Protocol):
    """One request as the load generator saw it."""

    @property
    def ts(self) -> float: ...

    @property
    def version(self) -> str: ...

    @property
    def status(self) -> int: ...

    @property
    def ok(self) -> bool: ...


def first_fail(analyses: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The first FAIL verdict among ``canary.analysis`` event details."""
    return next((a for a in analyses if a.get("verdict") == "fail"), None)


def canary_rolled_back(*, phase: str, canary_weight: int,
                       analyses: list[dict[str, Any]]) -> CheckResult:
    """A canary the analysis failed ended rolled back, with no traffic left on it."""
    failed = first_fail(analyses)
    ok = failed is None or (phase == "rolled_back" and canary_weight == 0)
    summary = ("no FAIL verdict, nothing to roll back" if failed is None else
               f"FAIL at {failed.get('weight')} %; the canary ended {phase} with "
               f"{canary_weight} % of the traffic")
    return CheckResult("canary_rolled_back", ok, summary, {
        "phase": phase, "canary_weight": canary_weight,
        "fail_verdict": None if failed is None else {
            "weight": failed.get("weight"), "reasons": failed.get("reasons", []),
            "canary_error_rate_pct": failed.get("values", {}).get("canary_error_rate_pct"),
            "canary_p95_ms": failed.get("values", {}).get("canary_p95_ms")}})


def canary_errors_contained(outcomes: Iterable[Served], *, failed_at: float | None,
                            canary_version: str, grace_s: float) -> CheckResult:
    """No request failed on the canary more than ``grace_s`` after the FAIL verdict
    (the rollback has to take effect within one analysis interval)."""
    late = sorted((o for o in outcomes
                   if failed_at is not None and not o.ok and o.version == canary_version
                   and o.ts > failed_at + grace_s), key=lambda o: o.ts)
    summary = (f"{len(late)} requests failed on the canary more than {grace_s:g} s after "
               "the FAIL verdict" if failed_at is not None else "no FAIL verdict")
    return CheckResult("canary_errors_contained", not late, summary, {
        "failed_after_grace": len(late), "grace_s": grace_s,
        "examples": [{"ts": round(o.ts, 3), "status": o.status,
                      "seconds_after_verdict": round(o.ts - (failed_at or 0), 1)}
                     for o in late[:EXAMPLES]]})


def split_tolerance_pct(weight: int, requests: int, *, floor_pct: float = 3.0) -> float:
    """How far the observed share of a step may sit from its set weight, in points:
    four standard deviations of a binomial share over ``requests``, and at least
    ``floor_pct`` (requests in flight at the change land on the old split)."""
    if requests <= 0:
        return 100.0
    p = weight / 100
    return max(floor_pct, 400 * math.sqrt(p * (1 - p) / requests))


def weight_split(steps: list[dict[str, Any]]) -> CheckResult:
    """At every step the share of requests the canary answered (ledger) and the share the
    router sent it (HAProxy's counters) are within the stated tolerance of the set
    weight. Steps with fewer than 20 requests are reported, not judged."""
    bad = [s for s in steps if s["requests"] >= 20 and not s["within_tolerance"]]
    shown = ", ".join(f"{s['weight']} %: {s['observed_pct']:.1f} % of {s['requests']} "
                      f"answered requests, {s.get('router_pct', 0):.1f} % of "
                      f"{s.get('router_requests', 0)} routed, tolerance "
                      f"±{s.get('tolerance_pct', 0):.1f}" for s in (bad or steps)[:EXAMPLES])
    summary = (f"{len(bad)} of {len(steps)} steps off their weight ({shown})" if bad else
               f"every step within tolerance of its weight ({shown})")
    return CheckResult("canary_weight_split", not bad, summary, {"steps": steps})


def every_request_answered(outcomes: Iterable[Served]) -> CheckResult:
    """Every request the load sent got an HTTP answer: none lost to a weight change,
    a rollback or a promotion (a 5xx is an answer; a reset or timeout is not)."""
    sent = list(outcomes)
    lost = [o for o in sent if o.status == 0]
    summary = (f"{len(lost)} of {len(sent)} requests got no answer" if lost else
               f"all {len(sent)} requests answered")
    return CheckResult("canary_every_request_answered", bool(sent) and not lost, summary, {
        "sent": len(sent), "unanswered": len(lost),
        "examples": [{"ts": round(o.ts, 3)} for o in lost[:EXAMPLES]]})


def canary_promoted(*, phase: str, weights: dict[str, int], after: Sequence[Served],
                    canary_version: str) -> CheckResult:
    """The canary ended promoted: the router sends it (now in the stable slot) every
    request, and the requests after the promotion were answered by it."""
    others = [o for o in after if o.version != canary_version]
    ok = phase == "promoted" and weights.get("canary", 0) == 0 and bool(after) and not others
    summary = (f"ended {phase}; {len(after) - len(others)} of {len(after)} requests after "
               f"the promotion answered by {canary_version}")
    return CheckResult("canary_promoted", ok, summary, {
        "phase": phase, "router_weights": weights, "after": len(after),
        "answered_by_others": sorted({o.version for o in others})})


def no_traffic_after_rollback(after: Sequence[Served], *, canary_version: str,
                              phase: str) -> CheckResult:
    """After the rollback (grace period past) no request reached the canary."""
    reached = [o for o in after if o.version == canary_version]
    ok = phase in ("rolled_back", "aborted") and bool(after) and not reached
    summary = (f"ended {phase}; {len(reached)} of {len(after)} requests after it reached "
               f"the canary {canary_version}")
    return CheckResult("canary_no_traffic_after_rollback", ok, summary, {
        "phase": phase, "after": len(after), "reached_canary": len(reached)})


def resources_within_limits(usage: dict[str, Any], *, version: str, limits_given: bool,
                            threshold_pct: float = 80.0) -> CheckResult:
    """The canary version's CPU (p90 of its samples under traffic) and peak memory stay
    under ``threshold_pct`` of the values file's limits (the seed's 80 %)."""
    mine = usage.get(version)
    if mine is None:
        return CheckResult("canary_resources_within_limits", True,
                           f"{version} not measured (a URL version, or it never ran)", {})
    over = [f"{name} at {mine[key]:g} % of its limit" for name, key in
            (("CPU", "cpu_limit_pct"), ("memory", "memory_limit_pct"))
            if mine.get(key) is not None and mine[key] > threshold_pct]
    measured = (f"CPU p90 {mine['cpu_cores_p90']:g} cores, memory peak "
                f"{mine['rss_bytes_peak'] / 2**20:.0f} MiB")
    if not limits_given:
        summary = f"{measured}; no resources.limits in the values file to judge against"
    elif over:
        summary = f"{', '.join(over)} (> {threshold_pct:g} %): {measured}"
    else:
        summary = f"{measured}, under {threshold_pct:g} % of the limits"
    return CheckResult("canary_resources_within_limits", not over, summary,
                       {"usage": mine, "threshold_pct": threshold_pct})
