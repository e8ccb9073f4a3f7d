"""Checks of a canary's outcome: did a failing canary get rolled back, and in time?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from harness.checks.result import EXAMPLES, CheckResult


class Served(Protocol):
    """One request as the load generator saw it."""

    ts: float
    version: str
    status: int

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
