"""A resumable canary controller: read the recorded state, take one step, record it.

Phases (one small function each)::

    init → deploying → verifying → shifting → analysing ⇄ shifting (next increment) …
         analysing at 100 % → promoting → promoted
         analysing at 100 %, auto-promotion off → awaiting_promotion → (approve) promoting
         verifying (unhealthy) | analysing (FAIL) → rolling_back → rolled_back
         analysing (FAIL) with the policy's rollback disabled → halted (weight held)
         analysing (metrics down ``max_failed_queries`` times in a row) → aborted
         analysing (inconclusive for ``inconclusive_after_s``) → paused → rolling_back
             (or halted when the policy's rollback is disabled)
         any phase before promotion, ``restart_analysis`` (a new canary version) →
             verifying at 0 %

Rules (the analysis samples once per ``policy.effective_analysis_interval_s``; each
sample judges the traffic since the previous one, stretched back to at least
``min_window_s`` but never past the step's start, so it rests on tens of requests and
never on the previous weight's):

* FAIL rolls back at once: the next step sets canary traffic to 0 %, within one
  analysis interval of the bad traffic (the seed script also rolls back on its first
  check above threshold). PASS counts toward promotion; MARGINAL neither counts nor
  rolls back; NODATA never counts.
* A step is done when its stability period (``policy.effective_stability_period_s``)
  has passed, it saw at least ``policy.min_samples`` samples with data, and the whole
  step judged as one window is PASS ("error rate < 1 %, latency < 500 ms over the
  stabilization period"). Short windows catch a failure fast; the step's window decides
  promotion on all its requests, so one unlucky 5xx in a short window does not hold it.
* A failed metric query (``MetricSourceError``) is retried an interval later with the
  window still open; ``max_failed_queries`` failures in a row abort (0 %, no promotion).
* Promotion needs both ``policy.auto_promotion_enabled`` and the flag of that name;
  otherwise the canary waits at 100 % in ``awaiting_promotion`` for ``approve_promotion``.
* With ``rollback.enabled: false`` a FAIL verdict halts the canary where it is: the
  weight is held and the controller waits for a person (``halted``). That is what such a
  policy does in production; scenarios use it to show that a rollback was needed.
* A step whose samples stay MARGINAL or NODATA for ``inconclusive_after_s`` (off by
  default) is inconclusive: the canary pauses at its weight (``paused``, recorded), and
  then the policy decides: roll back when rollback is enabled, else halt for a person.
* ``restart_analysis`` (a new canary version was deployed during the analysis) sends
  the canary back to 0 % and verifies it again; every step is analysed anew.
* The controller never stops the canary process: after a rollback or abort it keeps
  running with 0 % traffic, for debugging, as the runbook asks.

Crash safety: the state is saved after each step, so a new controller on the same file
continues where the old one stopped. A crash *inside* a step repeats that step's side
effects, so ``deploy_canary`` and ``promote`` must be idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness.analysis.judge import Judgement, Verdict, judge
from harness.analysis.metrics import MetricSourceError
from harness.analysis.window import Window
from harness.errors import ConfigError
from harness.events import EventLog
from harness.strategy.canary_state import (
    TERMINAL,
    CanaryState,
    CanaryStateError,
    CanaryTimeoutError,
    Phase,
    StateStore,
)
from harness.strategy.flags import FeatureFlags
from harness.strategy.policy import CanaryPolicy

__all__ = ["TERMINAL", "CanaryController", "CanaryState", "CanaryStateError",
           "CanaryTimeoutError", "Phase", "StateStore"]
from harness.traffic.router import Router

Handler = Callable[[CanaryState, float], bool]

# A sample over the last second at 10 % rests on a handful of requests; over 4 s, on tens.
# The step's start bounds it: a sample that reached back into the previous weight would
# mix that weight's healthy requests into a fault's first seconds (a slowed canary
# looked "not significantly slower" for 3 s that way).
MIN_WINDOW_S = 4.0


class CanaryController:
    """Drives one canary through its phases, one recorded step at a time."""

    def __init__(self, *, policy: CanaryPolicy, store: StateStore, router: Router,
                 deploy_canary: Callable[[], None], canary_healthy: Callable[[], bool],
                 promote: Callable[[], object],
                 observe: Callable[[float, float], tuple[Window, Window]],
                 flags: FeatureFlags, events: EventLog,
                 clock: Callable[[], float] = time.time,
                 max_failed_queries: int = 3,
                 extra_judge: Callable[[Judgement, float, float], Judgement] | None = None,
                 inconclusive_after_s: float | None = None,
                 min_window_s: float = MIN_WINDOW_S) -> None:
        """Wire the controller to the world.

        Args:
            policy: Increments, thresholds and compressed durations.
            store: Where the state is recorded.
            router: Splits traffic between ``stable`` and ``canary``.
            deploy_canary: Starts the canary version (idempotent); it gets 0 % traffic.
            canary_healthy: Whether the deployed canary is ready (may wait itself).
            promote: Makes the canary version the stable one (idempotent).
            observe: Canary and stable windows between two unix times; may raise
                ``MetricSourceError``.
            flags: The feature flags file the service also reads.
            events: Where every transition and sample is logged.
            clock: Unix time now.
            max_failed_queries: Metric failures in a row that abort the canary.
            extra_judge: Adds findings to each judgement (the service's own metric
                templates); may raise ``MetricSourceError`` like ``observe``.
            inconclusive_after_s: A step without its PASS samples after this long is
                inconclusive (None: wait for ever, until ``run``'s timeout).
            min_window_s: A sample judges at least this much of the step's traffic
                (less only in the step's first seconds, where it judges all of it).

        Raises:
            ConfigError: ``max_failed_queries`` < 1.
        """
        if max_failed_queries < 1:
            raise ConfigError(f"max_failed_queries must be >= 1, got {max_failed_queries}")
        self.policy, self.store, self.router, self.flags = policy, store, router, flags
        self.events = events
        self._deploy, self._healthy, self._promote = deploy_canary, canary_healthy, promote
        self._observe, self._clock, self._max_failed = observe, clock, max_failed_queries
        self._extra, self._inconclusive_after = extra_judge, inconclusive_after_s
        self._min_window_s = min_window_s
        self._limits: dict[str, Any] = {
            "error_rate_fail_pct": policy.rollback_error_rate_pct,
            "error_rate_pass_pct": policy.promote_error_rate_pct,
            "latency_p95_ms_max": policy.promote_latency_ms, "min_samples": policy.min_samples}
        self._handlers: dict[Phase, Handler] = {
            Phase.INIT: self._init, Phase.DEPLOYING: self._deploying,
            Phase.VERIFYING: self._verifying, Phase.SHIFTING: self._shifting,
            Phase.ANALYSING: self._analysing, Phase.PROMOTING: self._promoting,
            Phase.ROLLING_BACK: self._rolling_back, Phase.PAUSED: self._paused}

    def step(self) -> CanaryState:
        """Read the state, take one transition or analysis tick, record it, return it."""
        return self._advance()[0]

    def run(self, *, until_terminal: bool = True, timeout_s: float = 3600.0,
            sleep: Callable[[float], None] = time.sleep,
            poll_s: float | None = None) -> CanaryState:
        """Step until the canary is done, sleeping briefly whenever nothing was due.

        Returns at a terminal phase or at ``awaiting_promotion`` (only a person moves
        on from there); with ``until_terminal=False`` also at the first step that had
        nothing to do.

        Args:
            until_terminal: Keep waiting through analysis intervals.
            timeout_s: Give up after this long (by ``clock``).
            sleep: How to wait; ``poll_s`` at a time (default: a quarter interval).
            poll_s: See ``sleep``.

        Raises:
            CanaryTimeoutError: ``timeout_s`` passed first.
        """
        deadline = self._clock() + timeout_s
        poll = poll_s if poll_s is not None else self.policy.effective_analysis_interval_s / 4
        while True:
            state, changed = self._advance()
            stop = state.phase in TERMINAL or state.phase is Phase.AWAITING_PROMOTION
            if stop or (not changed and not until_terminal):
                return state
            if self._clock() >= deadline:
                raise CanaryTimeoutError(state, timeout_s)
            if not changed:
                sleep(poll)

    def restart_analysis(self, reason: str) -> CanaryState:
        """A new canary version is deployed: back to 0 %, verify it, analyse every step
        anew (the caller has already replaced the canary's process).

        Raises:
            CanaryStateError: The canary already ended or is being promoted.
        """
        state = self.store.load()
        if state.phase in TERMINAL or state.phase in (Phase.PROMOTING,
                                                      Phase.AWAITING_PROMOTION):
            raise CanaryStateError(f"a canary in {state.phase} cannot restart its analysis")
        now = self._clock()
        self._set_weight(state, 0)
        state.step_index, state.samples, state.pass_count = 0, [], 0
        state.failed_queries, state.retry_after = 0, None
        self.events.emit("canary.restarted", at=now, reason=reason)
        self._move(state, Phase.VERIFYING, now, f"analysis restarted: {reason}")
        self.store.save(state)
        return state

    def approve_promotion(self, reason: str = "promotion approved") -> CanaryState:
        """Move a canary waiting at 100 % on to promotion (auto-promotion is off).

        Raises:
            CanaryStateError: The canary is not in ``awaiting_promotion``.
        """
        state = self.store.load()
        if state.phase is not Phase.AWAITING_PROMOTION:
            raise CanaryStateError(f"only a canary in awaiting_promotion can be approved; "
                                   f"this one is in {state.phase}")
        self._move(state, Phase.PROMOTING, self._clock(), reason)
        self.store.save(state)
        return state

    def abort(self, reason: str, *, weight: int) -> CanaryState:
        """End the canary now, from outside the steps (its router failed while setting
        ``weight``), recorded like every transition; the caller has moved the traffic."""
        state = self.store.load()
        state.weight = weight
        self._move(state, Phase.ABORTED, self._clock(), reason)
        state.weight = 0
        self.store.save(state)
        return state

    def _advance(self) -> tuple[CanaryState, bool]:
        state = self.store.load()
        handler = self._handlers.get(state.phase)
        if handler is None or not handler(state, self._clock()):
            return state, False
        self.store.save(state)
        return state, True

    def _move(self, state: CanaryState, to: Phase, now: float, reason: str,
              values: dict[str, Any] | None = None) -> None:
        """Change phase, append it to the history and log an event."""
        state.history.append({"ts": now, "from": str(state.phase), "to": str(to),
                              "weight": state.weight, "reason": reason})
        self.events.emit("canary.phase", at=now, phase=str(to), previous=str(state.phase),
                         weight=state.weight, reason=reason, values=values or {})
        state.phase = to

    def _set_weight(self, state: CanaryState, weight: int) -> None:
        """Route ``weight`` % to the canary and record it in the flags."""
        self.router.set_weights({"stable": 100 - weight, "canary": weight})
        self.flags.update(canary_traffic_percentage=weight)
        state.weight = weight
        self.events.emit("canary.weight", weight=weight)

    def _init(self, state: CanaryState, now: float) -> bool:
        self.events.emit("canary.policy", at=now, version=self.policy.version,
                         increments=list(self.policy.increments),
                         rollback_enabled=self.policy.rollback_enabled, **self._limits)
        self.flags.update(canary_enabled=True, canary_version=self.policy.version,
                          canary_traffic_percentage=0)
        self._move(state, Phase.DEPLOYING, now,
                   f"canary {self.policy.version or '(unversioned)'} enabled in flags")
        return True

    def _deploying(self, state: CanaryState, now: float) -> bool:
        self._deploy()
        self._set_weight(state, 0)
        self._move(state, Phase.VERIFYING, now, "canary deployed with 0 % traffic")
        return True

    def _verifying(self, state: CanaryState, now: float) -> bool:
        healthy = self._healthy()
        self._move(state, Phase.SHIFTING if healthy else Phase.ROLLING_BACK, now,
                   "canary healthy" if healthy else "canary not healthy after deploy")
        return True

    def _shifting(self, state: CanaryState, now: float) -> bool:
        increments = self.policy.increments
        following = [i for i, pct in enumerate(increments) if pct > state.weight]
        if not following:
            raise CanaryStateError(f"no increment above {state.weight} % in {list(increments)}"
                                   "; the policy changed under a running canary: restore it")
        previous = state.weight
        state.step_index = following[0]
        self._set_weight(state, increments[state.step_index])
        state.step_started_at = state.window_started_at = now
        state.samples, state.pass_count, state.failed_queries, state.retry_after = [], 0, 0, None
        self._move(state, Phase.ANALYSING, now,
                   f"canary traffic {previous} % -> {state.weight} %")
        return True

    def _analysing(self, state: CanaryState, now: float) -> bool:
        start = state.window_started_at if state.window_started_at is not None else now
        due = now - start >= self.policy.effective_analysis_interval_s
        if not due or (state.retry_after is not None and now < state.retry_after):
            return False
        step_start = state.step_started_at if state.step_started_at is not None else start
        try:
            judgement = self._judge(max(step_start, min(start, now - self._min_window_s)), now)
            step = self._judge(step_start, now) \
                if judgement.verdict is not Verdict.FAIL and self._step_due(state, now) \
                else None
        except MetricSourceError as exc:
            self._query_failed(state, now, exc)
            return True
        self._record(state, now, judgement)
        if judgement.verdict is Verdict.FAIL and not self.policy.rollback_enabled:
            self.events.emit("canary.rollback_skipped", at=now, weight=state.weight,
                             reason="; ".join(judgement.reasons), values=judgement.values)
            self._move(state, Phase.HALTED, now,
                       f"FAIL at {state.weight} % but rollback is disabled by the policy: "
                       "canary traffic held, manual action required", judgement.values)
        elif judgement.verdict is Verdict.FAIL:
            self._move(state, Phase.ROLLING_BACK, now, "; ".join(judgement.reasons),
                       judgement.values)
        elif step is not None and step.verdict is Verdict.PASS:
            self._move(state, self._after_step(state), now,
                       f"PASS over the whole {now - (state.step_started_at or now):.0f} s "
                       f"at {state.weight} % ({state.pass_count} of {len(state.samples)} "
                       "samples PASS)", step.values)
        elif self._inconclusive(state, now):
            verdicts = [s["verdict"] for s in state.samples]
            self._move(state, Phase.PAUSED, now,
                       f"inconclusive at {state.weight} %: {state.pass_count} PASS of "
                       f"{len(verdicts)} samples ({verdicts.count('marginal')} MARGINAL, "
                       f"{verdicts.count('nodata')} NODATA) in "
                       f"{now - (state.step_started_at or now):.0f} s; weight held",
                       judgement.values)
        return True

    def _inconclusive(self, state: CanaryState, now: float) -> bool:
        started = state.step_started_at if state.step_started_at is not None else now
        return (self._inconclusive_after is not None
                and now - started >= self._inconclusive_after)

    def _paused(self, state: CanaryState, now: float) -> bool:
        """What the policy says after an inconclusive analysis."""
        if self.policy.rollback_enabled:
            self._move(state, Phase.ROLLING_BACK, now,
                       f"{state.reason}; the policy rolls back an inconclusive canary")
        else:
            self._move(state, Phase.HALTED, now,
                       f"{state.reason}; rollback is disabled by the policy: manual "
                       "action required")
        return True

    def _promoting(self, state: CanaryState, now: float) -> bool:
        self._promote()
        self.router.set_weights({"stable": 100, "canary": 0})
        self.flags.update(canary_enabled=False, canary_traffic_percentage=0)
        state.weight = 0
        self._move(state, Phase.PROMOTED, now, "canary promoted to stable; flags reset")
        return True

    def _rolling_back(self, state: CanaryState, now: float) -> bool:
        cause, before = state.reason, state.weight
        values = state.samples[-1]["values"] if state.samples else {}
        self._set_weight(state, 0)
        self.events.emit("rollback", at=now, reason=cause, weight_before=before, values=values)
        self._move(state, Phase.ROLLED_BACK, now,
                   f"canary traffic {before} % -> 0 % ({cause}); canary process kept "
                   "running for debugging", values)
        return True

    def _record(self, state: CanaryState, now: float, judgement: Judgement) -> None:
        sample = {"ts": now, "weight": state.weight, "verdict": str(judgement.verdict),
                  "values": dict(judgement.values), "reasons": list(judgement.reasons)}
        state.samples.append(sample)
        state.pass_count += 1 if judgement.verdict is Verdict.PASS else 0
        state.window_started_at, state.failed_queries, state.retry_after = now, 0, None
        self.events.emit("canary.analysis", at=now, phase=str(state.phase),
                         weight=state.weight, verdict=sample["verdict"],
                         reasons=sample["reasons"], values=sample["values"])

    def _query_failed(self, state: CanaryState, now: float, exc: MetricSourceError) -> None:
        state.failed_queries += 1
        state.retry_after = now + self.policy.effective_analysis_interval_s
        self.events.emit("canary.metrics_error", at=now, weight=state.weight,
                         failed_queries=state.failed_queries, error=str(exc))
        if state.failed_queries >= self._max_failed:
            # recorded at the weight it was decided at, then the traffic goes to 0 %
            self._move(state, Phase.ABORTED, now,
                       f"metrics unavailable for {state.failed_queries} queries in a row "
                       f"(last: {exc}); canary traffic set to 0 %, not promoted")
            self._set_weight(state, 0)

    def _judge(self, start: float, end: float) -> Judgement:
        canary, stable = self._observe(start, end)
        judgement = judge(canary, stable, **self._limits)
        return judgement if self._extra is None else self._extra(judgement, start, end)

    def _step_due(self, state: CanaryState, now: float) -> bool:
        """The stability period has passed with ``min_samples`` samples that had data."""
        started = state.step_started_at if state.step_started_at is not None else now
        judged = sum(s["verdict"] != "nodata" for s in state.samples) + 1  # + this one
        return (now - started >= self.policy.effective_stability_period_s
                and judged >= self.policy.min_samples)

    def _after_step(self, state: CanaryState) -> Phase:
        if state.weight < 100:
            return Phase.SHIFTING
        if self.policy.auto_promotion_enabled and self.flags.read().auto_promotion_enabled:
            return Phase.PROMOTING
        return Phase.AWAITING_PROMOTION
