"""CanaryRun: one canary of any HTTP service on a stack, from the first request to a verdict.

It owns the pieces a canary needs: the two versions (:class:`~harness.deploy.service.
ServiceDeployer`), the router's split, a steady load whose ledger records every request,
the controller (:class:`~harness.strategy.canary.CanaryController`) judging from the
router and the ledger, and the checks of the end state. It never imports pytest: a plain
script, the ``factories.canary`` fixture and ``cutover verify canary`` all drive it::

    run = CanaryRun(target=target, policy=policy, router=router, wiring=wiring, ...)
    with run:
        outcome = run.run()
    print(outcome.summary())
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.analysis.judge import Judgement
from harness.analysis.metrics import MetricSourceError
from harness.analysis.prometheus import PrometheusMetricSource
from harness.analysis.router_metrics import RouterLedgerObserver
from harness.analysis.templates import MetricTemplate, dashboard_rows, judge_templates
from harness.checks.canary import first_fail, resources_within_limits
from harness.checks.result import CheckResult
from harness.deploy.resources import ResourceLimits, ResourceSampler
from harness.deploy.service import ProcessOwner, ServiceDeployer
from harness.deploy.target import ServiceTarget, VersionSpec
from harness.events import EventLog
from harness.strategy.canary import (
    TERMINAL,
    CanaryController,
    CanaryState,
    CanaryStateError,
    CanaryTimeoutError,
    Phase,
    StateStore,
)
from harness.strategy.canary_checks import end_checks, promotion_rolled_back_checks
from harness.strategy.canary_dashboard import dashboard
from harness.strategy.canary_helm import helm_end_checks
from harness.strategy.canary_outcome import (
    OUTCOMES,
    CanaryOutcome,
    RouterWiring,
    outcome_of,
    run_policy,
)
from harness.strategy.canary_steps import StepTracker, with_verdicts
from harness.strategy.flags import FeatureFlags
from harness.strategy.policy import CanaryPolicy
from harness.traffic.haproxy import HaproxyRouter
from harness.traffic.helm_router import ChartMismatchError, HelmRouter
from harness.traffic.load import LoadGenerator
from harness.traffic.router import Router, RouterError
from harness.wait import wait_until

__all__ = ["OUTCOMES", "CanaryOutcome", "CanaryRun", "RouterWiring", "outcome_of",
           "run_policy"]

INCONCLUSIVE_STEPS = 10  # a step not judged PASS after 10 stability periods pauses
DECIDING = frozenset({Phase.PROMOTING, Phase.ROLLING_BACK})


class CanaryRun:
    """The canary of ``target`` under ``policy``, through the router in ``wiring``."""

    def __init__(self, *, target: ServiceTarget, policy: CanaryPolicy, wiring: RouterWiring,
                 workdir: Path, events: EventLog,
                 record: Callable[[CheckResult], Any] | None = None,
                 owner: ProcessOwner | None = None, rate_per_s: float = 80.0,
                 workers: int = 8, approve: bool = False, grace_s: float | None = None,
                 limits: ResourceLimits | None = None,
                 templates: list[MetricTemplate] | None = None,
                 gate: Callable[[], CheckResult] | None = None,
                 helm: HelmRouter | None = None,
                 progress: Callable[[str], None] = lambda _m: None) -> None:
        self.target, self.policy, self.wiring = target, policy, wiring
        self.workdir, self.events, self.progress = Path(workdir), events, progress
        self.record = record or (lambda _c: None)
        self.approve = approve
        self.gate = gate  # e.g. the parity of the canary's backend; runs before 0 -> 10 %
        self.gate_result: CheckResult | None = None
        self.grace_s = grace_s if grace_s is not None else \
            max(3.0, 3 * policy.effective_analysis_interval_s)
        self.router = HaproxyRouter(wiring.admin_socket, wiring.backend)
        # Weights: through a Helm release on a cluster when given (the data plane then
        # follows its VirtualService), else straight to HAProxy.
        self.helm = helm
        self.traffic: Router = helm if helm is not None else self.router
        self.deployer = ServiceDeployer(target=target, router=self.router, run_dir=self.workdir,
                                        events=events, owner=owner,
                                        targets_file=wiring.targets_file or None)
        self.load = LoadGenerator(wiring.url, list(target.requests), rate_per_s=rate_per_s,
                                  workers=workers, version_of=self.deployer.version_of,
                                  version_header=target.version_header)
        self.flags = FeatureFlags(self.workdir / "flags.json")
        self.store = StateStore(self.workdir / "canary.json")
        self.limits = limits or ResourceLimits()
        self.templates = list(templates or [])
        self.sampler = ResourceSampler(self.deployer)
        self.faults_on_at: float | None = None
        self.started_at = time.time()
        self.started = False
        self.active: CanaryController | None = None

    def start(self) -> CanaryRun:
        """Stable deployed and serving everything, load flowing; the canary not yet up."""
        self.deployer.deploy("stable")
        if self.helm is not None:
            self.helm.install(self.target.stable.label)
            self.progress(f"release {self.helm.chart.release} installed in namespace "
                          f"{self.helm.namespace}")
        self.traffic.set_weights({"stable": 100, "canary": 0})
        self.load.start()
        self.sampler.start()
        self.started_at = time.time()
        self.flags.update(canary_enabled=True, canary_version=self.target.canary.label,
                          auto_promotion_enabled=True)
        self.started = True
        self.progress(f"stable {self.target.stable.label} serving at {self.wiring.url}")
        return self

    def controller(self, *, prometheus_url: str = "",
                   policy: CanaryPolicy | None = None) -> CanaryController:
        """A controller judging from the router and the ledger, with ``policy`` (default:
        this run's) and Prometheus at ``prometheus_url`` (default: the stack's)."""
        source = PrometheusMetricSource(prometheus_url or self.wiring.prometheus_url)
        observe = RouterLedgerObserver(source, backend=self.wiring.backend, load=self.load)

        def templates(judgement: Judgement, start: float, end: float) -> Judgement:
            return judge_templates(judgement, source, self.templates, start=start, end=end,
                                   canary_version=self.target.canary.label)

        chosen = policy or self.policy
        return CanaryController(
            policy=chosen, store=self.store, router=self.traffic,
            deploy_canary=self._deploy_canary, canary_healthy=self._canary_healthy,
            promote=self._promote, observe=observe, flags=self.flags,
            events=self.events, extra_judge=templates if self.templates else None,
            inconclusive_after_s=INCONCLUSIVE_STEPS * chosen.effective_stability_period_s)

    def run(self, *, controller: CanaryController | None = None,
            on_weight: Callable[[int], None] | None = None,
            timeout_s: float | None = None) -> CanaryOutcome:
        """Step the controller to its end, then check the end state.

        ``on_weight(weight)`` runs once per new weight (a fault schedule uses it).

        Raises:
            CanaryTimeoutError: No terminal phase within ``timeout_s`` (default: the
                policy's steps times their stability period, twice, plus a minute).
        """
        if not self.started:
            self.start()
        if self.gate is not None:
            blocked = self._run_gate()
            if blocked is not None:
                return blocked
        controller = self.active = controller or self.controller()
        budget = timeout_s or 60 + 2 * len(self.policy.increments) * \
            self.policy.effective_stability_period_s
        tracker = StepTracker(self.load, self.router)
        deadline = time.monotonic() + budget
        poll = min(0.2, self.policy.effective_analysis_interval_s / 4)
        while True:
            try:
                state = controller.step()
            except RouterError as exc:  # e.g. a chart whose VirtualService ignores its values
                tracker.close()
                return self._router_failed(exc, tracker, controller)
            if tracker.observe(state.weight):
                self.progress(f"canary at {state.weight} %")
                if on_weight:
                    on_weight(state.weight)
            if state.phase in DECIDING or state.phase is Phase.AWAITING_PROMOTION:
                tracker.close()  # the step ends at the decision, not at the re-routing
            if state.phase is Phase.AWAITING_PROMOTION and self.approve:
                controller.approve_promotion("approved by --approve")
                continue
            if state.phase in TERMINAL or state.phase is Phase.AWAITING_PROMOTION:
                break
            if time.monotonic() >= deadline:
                raise CanaryTimeoutError(state, budget)
            time.sleep(poll)
        tracker.close()
        return self._finish(state, tracker)

    def replace_canary(self, spec: VersionSpec) -> None:
        """Deploy a new canary version during the analysis (it replaces the running
        canary) and restart the analysis from 0 %, as a new revision does in Flagger."""
        self.deployer.deploy("canary", spec)
        self.target = self.target.with_canary(spec)
        self.flags.update(canary_version=spec.label)
        if self.active is not None:
            self.active.restart_analysis(f"new canary version {spec.label}")

    def rollback_promotion(self, *, drain_timeout_s: float = 30.0) -> list[CheckResult]:
        """After a promotion, put the previous stable version back in front of every
        request, losing none; the promoted version stays at 0 % for debugging.

        The previous version starts in the canary slot, takes all traffic, the promoted
        one drains, and the slots swap. Returns (and records) the checks.

        Raises:
            CanaryStateError: The canary was not promoted.
        """
        state = self.store.load()
        if state.phase is not Phase.PROMOTED:
            raise CanaryStateError(f"only a promoted canary can be rolled back; this one is "
                                   f"{state.phase}")
        started = time.time()
        self.deployer.deploy("canary", self.target.stable)
        self.router.set_weights({"stable": 0, "canary": 100})
        wait_until(lambda: None if self.router.in_flight().get("stable", 0) == 0
                   else f"{self.router.in_flight()['stable']} in flight",
                   timeout_s=drain_timeout_s, what="the promoted version to drain")
        self.deployer.swap_slots()
        self.flags.update(canary_enabled=False, canary_traffic_percentage=0)
        self.events.emit("rollback", at=time.time(), reason="promotion rolled back",
                         weight_before=100, values={})
        checks = promotion_rolled_back_checks(self, since=started)
        for check in checks:
            self.record(check)
        return checks

    def _run_gate(self) -> CanaryOutcome | None:
        """Run the gate; a failing gate ends the run before the canary takes a request."""
        self.progress("gate: checking before any traffic moves")
        result = self.gate_result = self.gate() if self.gate is not None else None
        if result is None:
            return None
        self.record(result)
        self.events.emit("canary.gate", name=result.name, ok=result.ok,
                         summary=result.summary)
        if result.ok:
            self.progress(f"gate passed: {result.summary}")
            return None
        self.load.stop()
        self.sampler.stop()
        outcome = CanaryOutcome("blocked", 0, result.summary, [], [result],
                                {"requests": len(self.load.snapshot()), "gate": result.name})
        self.events.emit("canary.outcome", outcome="blocked", weight=0,
                         summary=outcome.summary())
        return outcome

    def mark_faults_on(self) -> None:
        """Record when a fault was switched on, for the onset → verdict figure."""
        self.faults_on_at = time.time()

    def _finish(self, state: CanaryState, tracker: StepTracker) -> CanaryOutcome:
        outcome, weight = outcome_of(state)
        tracker.steps = with_verdicts(
            tracker.steps, (e.details for e in self.events.of_kind("canary.analysis")))
        decided_at = float(state.history[-1]["ts"]) if state.history else time.time()
        checks = end_checks(self, state, outcome=outcome, decided_at=decided_at,
                            steps=tracker.steps)
        self.sampler.stop()
        shifted = next((float(h["ts"]) for h in state.history if h["to"] == "analysing"),
                       self.started_at)
        usage = self.sampler.summary(self.limits, since=shifted)
        checks.append(resources_within_limits(
            usage, version=self.target.canary.label,
            limits_given=self.limits != ResourceLimits()))
        self.events.emit("canary.dashboard", **dashboard(
            ledger=self.load.snapshot(), usage=usage, steps=tracker.steps,
            roles={self.target.stable.label: "stable", self.target.canary.label: "canary"},
            app_metrics=self._app_metrics()))
        for check in checks:
            self.record(check)
        figures: dict[str, Any] = {"steps": len(tracker.steps),
                                   "requests": len(self.load.snapshot())}
        failed = first_fail(e.details for e in self.events.of_kind("canary.analysis"))
        if self.faults_on_at is not None and failed is not None:
            figures["fault_to_verdict_s"] = round(float(failed["at"]) - self.faults_on_at, 2)
        if self.helm is not None:
            helm_checks = helm_end_checks(self.helm, outcome=outcome,
                                          canary_tag=self.target.canary.label)
            for check in helm_checks:
                self.record(check)
            checks += helm_checks
            figures["helm_steps"] = self.helm.steps
        gated = [self.gate_result] if self.gate_result is not None else []
        result = CanaryOutcome(outcome, weight, state.reason, tracker.steps, gated + checks,
                               figures, state.to_json())
        self.events.emit("canary.outcome", outcome=outcome, weight=weight,
                         summary=result.summary())
        return result

    def _app_metrics(self) -> list[dict[str, Any]]:
        """The templates over the whole run, per version ([] when Prometheus fails)."""
        if not self.templates:
            return []
        try:
            return dashboard_rows(
                PrometheusMetricSource(self.wiring.prometheus_url), self.templates,
                versions={"stable": self.target.stable.label,
                          "canary": self.target.canary.label},
                start=self.started_at, end=time.time())
        except MetricSourceError as exc:
            self.events.emit("canary.metrics_error", error=str(exc), weight=0,
                             failed_queries=0, at=time.time())
            return []

    def _deploy_canary(self) -> None:
        if "canary" not in self.deployer.slots:  # idempotent: a resumed step may repeat
            self.deployer.deploy("canary")
        if self.helm is not None:
            self.helm.deploy_canary(self.target.canary.label)

    def _canary_healthy(self) -> bool:
        canary = self.deployer.slots.get("canary")
        alive = canary is not None and canary.alive()
        return alive and (self.helm is None or self.helm.canary_available(wait=True))

    def _promote(self) -> None:
        self.deployer.promote()  # the data plane: the canary's process serves as stable
        if self.helm is not None:
            self.helm.promote(self.target.canary.label)

    def _router_failed(self, exc: RouterError, tracker: StepTracker,
                       controller: CanaryController) -> CanaryOutcome:
        """The router could not set a weight: stop the canary's traffic, end the run."""
        state = self.store.load()
        if isinstance(exc, ChartMismatchError):
            weight = exc.expected["canary"]
        elif self.helm is not None and self.helm.steps:
            weight = int(self.helm.steps[-1]["weight"])  # the step that failed
        else:
            weight = state.weight
        if state.phase is Phase.PROMOTING:
            exc = RouterError(f"promotion incomplete (the data plane already serves the "
                              f"canary's version): {exc}")
        # The follower stops first (it must not re-apply the failed step's weights after
        # the reset below), then the release's traffic goes to 0, then HAProxy's.
        reset = self.helm.reset_traffic() if self.helm is not None else ""
        try:
            self.router.set_weights({"stable": 100, "canary": 0})
        except RouterError as second:
            reset = f"{reset}; HAProxy: {second}" if reset else f"HAProxy: {second}"
        if reset:
            self.events.emit("canary.router_error", error=f"traffic not reset: {reset}")
        self.flags.update(canary_traffic_percentage=0)
        self.events.emit("canary.router_error", error=str(exc), weight=weight)
        state = controller.abort(str(exc), weight=weight)
        check = CheckResult("router_followed", False, str(exc),
                            {"error": str(exc), "phase": str(state.phase),
                             "weight": weight, "traffic_reset": reset or "ok",
                             **({"expected": exc.expected, "found": exc.found}
                                if isinstance(exc, ChartMismatchError) else {})})
        self.record(check)
        checks = [check]
        if self.helm is not None:
            checks += helm_end_checks(self.helm, outcome="aborted",
                                      canary_tag=self.target.canary.label)
            for extra in checks[1:]:
                self.record(extra)
        self.load.stop()
        self.sampler.stop()
        outcome = CanaryOutcome("aborted", weight, str(exc), tracker.steps, checks,
                                {"requests": len(self.load.snapshot())}, state.to_json())
        self.events.emit("canary.outcome", outcome="aborted", weight=weight,
                         summary=outcome.summary())
        return outcome

    def close(self) -> None:
        self.load.stop()
        self.sampler.stop()
        try:
            self.router.set_weights({"stable": 100, "canary": 0})
        finally:
            if self.helm is not None:
                self.helm.close()
            self.deployer.close()

    def __enter__(self) -> CanaryRun:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
