"""The checks of a canary run's end state, from settled evidence.

After the decision the run waits for a grace period and then for fresh requests, so
"no traffic after the rollback" and "everything on the new stable" are judged on
requests sent after the router changed, not on whatever was in flight.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from harness.checks.canary import (
    canary_errors_contained,
    canary_promoted,
    canary_rolled_back,
    every_request_answered,
    first_fail,
    no_traffic_after_rollback,
    weight_split,
)
from harness.checks.result import CheckResult
from harness.strategy.canary import CanaryState
from harness.traffic.load import Outcome
from harness.wait import wait_until

if TYPE_CHECKING:
    from harness.strategy.canary_run import CanaryRun

AFTER_REQUESTS = 30
HALTED_AFTER_REQUESTS = 200  # a held canary at 10 %: enough of its requests to judge


def requests_after(run: CanaryRun, since: float, wanted: int, *, what: str) -> list[Outcome]:
    """The load's requests sent from ``since`` on, once there are ``wanted`` of them."""
    wait_until(lambda: None if len(run.load.snapshot(since=since)) >= wanted
               else f"{len(run.load.snapshot(since=since))} requests so far",
               timeout_s=30 + run.grace_s, what=f"{wanted} requests after {what}")
    return run.load.snapshot(since=since)


def end_checks(run: CanaryRun, state: CanaryState, *, outcome: str, decided_at: float,
               steps: list[dict[str, object]]) -> list[CheckResult]:
    """Every check that applies to how the run ended."""
    since = decided_at + run.grace_s
    wanted = HALTED_AFTER_REQUESTS if outcome == "halted" else AFTER_REQUESTS
    after = requests_after(run, since, wanted, what="the decision")
    canary_label = run.target.canary.label
    checks = [weight_split(steps), every_request_answered(run.load.snapshot())]
    analyses = [e.details for e in run.events.of_kind("canary.analysis")]
    if outcome == "promoted":
        checks.append(canary_promoted(phase=str(state.phase), weights=run.router.weights(),
                                      after=after, canary_version=canary_label))
    elif outcome in ("rolled_back", "aborted", "halted"):
        checks.append(canary_rolled_back(phase=str(state.phase),
                                         canary_weight=run.router.weights()["canary"],
                                         analyses=analyses))
        failed = first_fail(analyses)
        checks.append(canary_errors_contained(
            run.load.snapshot(), failed_at=failed["at"] if failed else None,
            canary_version=canary_label, grace_s=run.grace_s))
        checks.append(no_traffic_after_rollback(after, canary_version=canary_label,
                                                phase=str(state.phase)))
        checks.append(canary_kept(run))
    return checks


def canary_kept(run: CanaryRun) -> CheckResult:
    """A canary that was not promoted is kept running (at 0 %) for debugging."""
    canary = run.deployer.slots.get("canary")
    alive = canary is not None and canary.alive()
    where = canary.url if canary else "no canary deployed"
    return CheckResult("canary_kept_for_debugging", alive,
                       f"the canary at {where} is {'running' if alive else 'gone'}",
                       {"url": where, "alive": alive})


def promotion_rolled_back_checks(run: CanaryRun, *, since: float) -> list[CheckResult]:
    """After a rollback of a promotion: every request since it was answered, and the
    ones sent after the grace period were answered by the previous stable version."""
    after_ts = time.time() + run.grace_s
    after = requests_after(run, after_ts, AFTER_REQUESTS,
                           what="the rollback of the promotion")
    previous = run.target.stable.label
    others = [o for o in after if o.version != previous]
    during = every_request_answered(run.load.snapshot(since=since))
    return [CheckResult("canary_promotion_rolled_back", not others and bool(after),
                        f"{len(after) - len(others)} of {len(after)} requests after the "
                        f"rollback answered by {previous}",
                        {"after": len(after), "answered_by_others": sorted(
                            {o.version for o in others})}),
            CheckResult("canary_promotion_rollback_lost_nothing", during.ok,
                        during.summary, during.evidence)]
