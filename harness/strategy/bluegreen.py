"""A blue/green run of any data product, as a step machine over recorded state.

The runbook, step by step: deploy the product at REF1, send synthetic data, settle and
check that it reached every sink; deploy the REF1→REF2 plan beside it while data keeps
flowing (the green statements watched); settle; check every sink of v1 and v2; then
promote, roll back, or promote and then roll back (rollback after promotion resumes v1
from the savepoints it stopped with and switches consumers back).

Every step reads the state, does one thing, and records the state (a JSON file) and an
event, so a crashed run leaves enough behind to be cleaned up (:func:`cleanup_recorded`).
Verdicts come from settled data: every running statement has consumed its inputs to
their ends and checkpointed after that (:class:`~harness.flink.settle.Settler`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path

from harness.atomic import write_json_atomic
from harness.checks.result import CheckResult
from harness.checks.statements import StatementWatcher, green_untouched
from harness.data.ledger import Ledger
from harness.data.product import ProductData
from harness.deploy.flink import FlinkDeployer
from harness.deploy.iceberg_sinks import IcebergSinks
from harness.deploy.preflight import flink_accepts
from harness.events import EventLog
from harness.flink.rest import FlinkRestClient
from harness.flink.settle import Settler
from harness.pipeline.dialect import KafkaTarget
from harness.sampler import TopicCountSampler, sample_redeployed
from harness.strategy.bluegreen_checks import (
    SinkReader,
    comparison_checks,
    expectations_text,
    iceberg_checks,
    serving_check,
    sink_checks,
    tables_of,
    unfed,
)
from harness.strategy.bluegreen_setup import (
    BlueGreenInputError,
    PreparedRun,
    source_encodings,
)
from harness.strategy.bluegreen_state import STATE_FILE, BlueGreenOutcome, BlueGreenState
from harness.strategy.fault_checks import fault_checks
from harness.strategy.fault_plan import FaultPlan
from harness.strategy.hooks import Hook, chained
from harness.strategy.serving import ServingMap


class BlueGreenRun:
    """One blue/green verification of ``prepared`` on a stack's Kafka and Flink.

    Args:
        prepared: The resolved spec (:func:`~harness.strategy.bluegreen_setup.prepare`).
        deployer: Deploys into the run's topic namespace; its serving map is the run's.
        workdir: Where the state file goes.
        events: The run's timeline.
        record: Called with every check result (a scenario recorder's ``check``).
        progress: Called with one line per step.
        hooks: Phase name -> called after the step that entered it (mutants, probes).
        sinks: Where Iceberg sinks go, when the spec asks for them.
        faults: Faults injected at phases; what they disturb is excused from the checks
            that watch statements, and their windows are in the outcome's figures.
    """

    def __init__(self, prepared: PreparedRun, *, deployer: FlinkDeployer, workdir: Path,
                 events: EventLog, record: Callable[[CheckResult], CheckResult] | None = None,
                 progress: Callable[[str], None] | None = None,
                 hooks: Mapping[str, Hook] | None = None,
                 sinks: IcebergSinks | None = None, faults: FaultPlan | None = None) -> None:
        self.prepared, self.deployer, self.events = prepared, deployer, events
        self.faults = faults
        self.sinks = sinks if prepared.sink_tables else None
        if prepared.sink_tables and sinks is None:
            raise BlueGreenInputError(f"Iceberg sinks {prepared.sink_tables} were asked for "
                                      "but the run has no Iceberg catalog; start the stack's "
                                      "iceberg service (pass sinks=IcebergSinks(...))")
        self.rest: FlinkRestClient = deployer.rest
        self.workdir = Path(workdir)
        self.state_path = self.workdir / STATE_FILE
        self._record = record or (lambda result: result)
        self._progress = progress or (lambda line: None)
        self.hooks = chained(faults.hooks() if faults else {}, dict(hooks or {}))
        self.checks: list[CheckResult] = []
        self.state = BlueGreenState(topic_prefix=deployer.target.topic_prefix,
                                    rest_url=self.rest.rest_url,
                                    bootstrap_servers=deployer.target.bootstrap_servers)
        self.data = ProductData(prepared.data, bootstrap_servers=deployer.target
                                .bootstrap_servers, topic_of=self._source_topic,
                                seed=prepared.spec.seed,
                                ledger=Ledger(self.workdir / "ledger.jsonl"),
                                encodings=source_encodings(prepared, deployer))
        self.reader = SinkReader(deployer)
        self.settler = Settler(self.rest, deployer.target.bootstrap_servers)
        self._started = time.monotonic()
        self._last_input = 0.0
        self._v1_jobs: dict[str, str] = {}
        self.sampler: TopicCountSampler | None = None

    # -- the step machine -----------------------------------------------------------
    def run(self) -> BlueGreenOutcome:
        """Take steps until the run is done; the outcome holds every check."""
        self.events.emit("bluegreen.plan", **self.prepared.plan.to_json())
        self.events.emit("bluegreen.data_plan", **self.prepared.data.to_json())
        self._save()
        while self.state.phase not in ("done", "refused"):
            self.step()
        if self.faults is not None:
            self.faults.join()
            self.state.figures.update(self.faults.summary())
        self.state.figures["wall_s"] = round(time.monotonic() - self._started, 2)
        self._save()
        return self.outcome()

    def step(self) -> str:
        """Take the step of the current phase; returns the new phase."""
        handlers: dict[str, Callable[[], str]] = {
            "init": self._deploy_v1, "v1_deployed": self._seed,
            "v1_settled": self._deploy_plan, "v2_settled": self._check_both,
            "checked": self._after_checks, "promoted": self._after_promotion,
            "rolled_back": lambda: "done"}
        before = self.state.phase
        after = handlers[before]()
        self.state.phase = after
        self.state.history.append({"ts": time.time(), "from": before, "to": after})
        self.events.emit("bluegreen.phase", phase=after, previous=before)
        self._save()
        if after in self.hooks:
            self.hooks[after](self)
        return after

    def _deploy_v1(self) -> str:
        p = self.prepared
        self._add([flink_accepts(self.deployer, p.v1, p.v2, p.plan, p.extra_ddl)],
                  stage="preflight")
        if not self.checks[-1].ok:
            return "refused"  # nothing deployed: no topic created, no job started
        self._progress(f"deploying {self.prepared.spec.from_ref}: "
                       f"{len(self.prepared.v1.tables)} tables")
        self.deployer.deploy(self.prepared.v1, extra_ddl=self.prepared.extra_ddl)
        self._deploy_sinks({t: t for t in self.prepared.sink_tables}, v2=False)
        self._v1_jobs = {name: s.job_id or "" for name, s in self.deployer.statements.items()}
        return "v1_deployed"

    def _seed(self) -> str:
        self.data.seed_all(progress=self._progress)
        self._last_input = time.monotonic()
        self._settle("v1")
        tables = self._v1_tables()
        self.reader.clear()
        self._add(sink_checks(self.prepared, self.reader, self.data, tables, v2=False),
                  stage="v1")
        self._iceberg_checks(tables, v2=False, stage="v1")
        return "v1_settled"

    def _deploy_plan(self) -> str:
        plan = self.prepared.plan
        redeployed = {r.table for r in plan.redeploy}
        green = [s for n, s in self.deployer.statements.items() if n not in redeployed]
        self._progress(f"deploying the plan of {self.prepared.spec.to_ref} beside v1 "
                       f"({len(plan.redeploy)} statements; {len(green)} green, watched)")
        self._sample_pairs()
        with StatementWatcher(self.rest, green) as watcher:
            feeds = [self.data.injector(t, rate_per_s=self.prepared.spec.rate_per_s)
                     for t in self.prepared.data.leaves]
            for feed, table in zip(feeds, self.prepared.data.leaves, strict=True):
                feed.start(lambda t=table: self.data.next_record(t))  # type: ignore[misc]
            try:
                self.deployer.deploy_plan(self.prepared.v2, plan)
                self._deploy_sinks({r.table: r.new_name for r in plan.redeploy}, v2=True)
                if "plan_deploying" in self.hooks:  # inside the watched window
                    self.hooks["plan_deploying"](self)
                self._send_some_of_everything()
            finally:
                fed = [feed.stop() for feed in feeds]
                for feed in feeds:
                    feed.close()
            self._last_input = time.monotonic()
            self._settle("v2")
        self.events.emit("bluegreen.live_feed", acked=sum(s.acked for s in fed),
                         failed=sum(s.failed for s in fed))
        self._add([green_untouched(
            watcher.samples, {s.name: self._v1_jobs.get(s.name, "") for s in green},
            excused=self.faults.excused() if self.faults else (),
            unfed=unfed(self.prepared, [s.name for s in green]))], stage="v2")
        return "v2_settled"

    def _check_both(self) -> str:
        plan = self.prepared.plan
        checks_started = time.monotonic()
        self.reader.clear()
        self.reader.prefetch(tables_of(self.prepared, v1=True, v2=True))
        self._add(sink_checks(self.prepared, self.reader, self.data, self._v1_tables(),
                              v2=False), stage="v1")
        self._add(sink_checks(self.prepared, self.reader, self.data,
                              {r.table: r.new_name for r in plan.redeploy}, v2=True),
                  stage="v2")
        self._add(comparison_checks(self.prepared, self.reader), stage="v1_v2")
        self._add(fault_checks(self), stage="faults")
        self._iceberg_checks(self._v1_tables(), v2=False, stage="v1")
        self._iceberg_checks({r.table: r.new_name for r in plan.redeploy}, v2=True, stage="v2")
        self.state.figures["checks_s"] = round(time.monotonic() - checks_started, 2)
        self.state.figures["last_input_to_verdict_s"] = round(
            time.monotonic() - self._last_input, 2)
        return "checked"

    def _after_checks(self) -> str:
        if self.prepared.spec.then == "rollback":
            return self._rollback()
        return self._promote()

    def _after_promotion(self) -> str:
        if self.prepared.spec.then == "promote-rollback":
            return self._rollback()
        return "done"

    def _promote(self) -> str:
        plan = self.prepared.plan
        old = {r.table: self.deployer.statements[r.table].job_id or ""
               for r in plan.redeploy if r.table in self.deployer.statements}
        self._progress("promoting: consumers switch to v2, v1 stops with a savepoint")
        self.deployer.promote(plan, caught_up=lambda step: None)
        self._stop_sinks([r.table for r in plan.redeploy])
        self.state.savepoints = dict(self.deployer.savepoints)
        self._send_some_of_everything(scale=0.2)
        self._settle("promoted")
        self.reader.clear()
        serving = {r.table: r.new_name for r in plan.redeploy}
        self._add([serving_check("promoted", self.deployer, self.rest, expected=serving,
                                 running=[r.new_name for r in plan.redeploy], stopped=old)],
                  stage="promoted")
        self._add(sink_checks(self.prepared, self.reader, self.data, serving, v2=True),
                  stage="promoted")
        self._iceberg_checks(serving, v2=True, stage="promoted")
        return "promoted"

    def _rollback(self) -> str:
        plan = self.prepared.plan
        v2_jobs = {r.new_name: self.deployer.statements[r.new_name].job_id or ""
                   for r in plan.redeploy if r.new_name in self.deployer.statements}
        self._progress("rolling back: v2 stops and its tables are dropped; v1 serves"
                       + (" (resumed from its savepoints)" if self.deployer.savepoints else ""))
        after_promotion = bool(self.deployer.savepoints)
        self._stop_sinks([r.new_name for r in plan.redeploy])
        self.deployer.rollback(plan, model=self.prepared.v1)
        dropped_sinks = self.sinks.drop(r.new_name for r in plan.redeploy) if self.sinks else []
        self.events.emit("bluegreen.iceberg_dropped", tables=dropped_sinks)
        if after_promotion:  # v1's sinks start over from the start: upserts are idempotent
            self._deploy_sinks({r.table: r.table for r in plan.redeploy}, v2=False)
        self._send_some_of_everything(scale=0.2)
        self._settle("rolled_back")
        self.reader.clear()
        v1 = {r.table: r.table for r in plan.redeploy}
        self._add([serving_check("rolled_back", self.deployer, self.rest, expected=v1,
                                 running=list(v1), stopped=v2_jobs,
                                 dropped=tuple(self.deployer.topic(n) for n in v2_jobs))],
                  stage="rolled_back")
        self._add(sink_checks(self.prepared, self.reader, self.data, self._v1_tables(),
                              v2=False), stage="rolled_back")
        self._iceberg_checks(self._v1_tables(), v2=False, stage="rolled_back")
        return "rolled_back"

    # -- Iceberg sinks ------------------------------------------------------------------
    def _deploy_sinks(self, tables: dict[str, str], *, v2: bool) -> None:
        """Start the Iceberg sinks of ``logical -> physical`` tables chosen by the spec."""
        if self.sinks is None:
            return
        chosen = {physical: self.prepared.ddl(logical, v2=v2)
                  for logical, physical in tables.items()
                  if logical in self.prepared.sink_tables}
        if chosen:
            model = self.prepared.v2 if v2 else self.prepared.v1
            self.deployer.deploy_sinks(model, chosen, self.sinks)

    def _stop_sinks(self, physical: list[str]) -> None:
        for table in physical:
            name = IcebergSinks.statement(table)
            if name in self.deployer.statements:
                self.deployer.stop(name)

    def _iceberg_checks(self, tables: dict[str, str], *, v2: bool, stage: str) -> None:
        if self.sinks is None:
            return
        chosen = {t: p for t, p in tables.items() if t in self.prepared.sink_tables}
        self._add(iceberg_checks(self.prepared, self.sinks, self.reader, self.data, chosen,
                                 v2=v2), stage=stage)

    def _wait_sinks_committed(self, jobs: dict[str, str]) -> None:
        if self.sinks is None:
            return
        wanted = IcebergSinks.checkpoints_to_commit(jobs, self.settler.proven_checkpoint)
        if wanted:
            waited = self.sinks.wait_committed(wanted)
            self.state.figures["iceberg_commit_wait_s"] = round(waited, 2)
            self.events.emit("bluegreen.iceberg_committed", checkpoints=wanted,
                             waited_s=round(waited, 2))

    # -- helpers ----------------------------------------------------------------------
    def _sample_pairs(self) -> None:
        """Record v1 and v2 record counts of every redeployed table (the report's plot)."""
        self.sampler = sample_redeployed(
            self.deployer.target.bootstrap_servers,
            [(r.table, r.new_name) for r in self.prepared.plan.redeploy],
            self.deployer.topic, self.events)

    def _source_topic(self, table: str) -> str:
        return self.deployer.topic(table)

    def _v1_tables(self) -> dict[str, str]:
        return {n: n for n, t in self.prepared.v1.tables.items() if not t.is_external}

    def _send_some_of_everything(self, *, scale: float = 0.1) -> None:
        """A few records of every source, so every statement gets input."""
        for source in self.prepared.data.sources:
            self.data.send(source.table, max(2, round(source.count * scale)))
        self._last_input = time.monotonic()

    def _settle(self, stage: str) -> None:
        jobs = {n: s.job_id or "" for n, s in self.deployer.statements.items()}
        self.state.statements = jobs
        self._save()
        bounded = {n for n, s in self.deployer.statements.items() if s.bounded}
        waited = self.settler.wait(jobs, timeout_s=self.prepared.spec.settle_timeout_s,
                                   bounded=bounded)
        self._wait_sinks_committed(jobs)
        self.state.figures[f"settle_{stage}_s"] = round(waited, 2)
        self.events.emit("bluegreen.settled", stage=stage, waited_s=round(waited, 2),
                         statements=sorted(jobs))
        self._progress(f"settled ({stage}) in {waited:.1f} s: {len(jobs)} statements "
                       "consumed their inputs and checkpointed")

    def _add(self, results: list[CheckResult], *, stage: str) -> None:
        for result in results:
            tagged = CheckResult(f"{stage}:{result.name}", result.ok, result.summary,
                                 result.evidence)
            self.checks.append(self._record(tagged))
            self.state.checks.append({"name": tagged.name, "ok": tagged.ok,
                                      "summary": tagged.summary})
            self._progress(f"{'ok  ' if tagged.ok else 'FAIL'} {tagged.name}: {tagged.summary}")

    def _save(self) -> None:
        self.state.statements = {n: s.job_id or "" for n, s in self.deployer.statements.items()}
        self.state.savepoints = dict(self.deployer.savepoints)
        write_json_atomic(self.state_path, asdict(self.state), default=str)

    def outcome(self) -> BlueGreenOutcome:
        return BlueGreenOutcome(
            ok=bool(self.checks) and all(c.ok for c in self.checks), phase=self.state.phase,
            checks=list(self.checks), plan=self.prepared.plan.to_json(),
            data_plan=self.prepared.data.to_json(),
            expectations=expectations_text(self.prepared), figures=dict(self.state.figures),
            serving_map=str(self.deployer.serving.path))

    def shutdown(self) -> None:
        """Stop every statement the run started (the namespace's topics stay)."""
        try:
            if self.faults is not None:  # a fault still on heals before the teardown
                with contextlib.suppress(Exception):
                    self.faults.join()
            if self.sampler is not None:
                self.sampler.stop()
            self.deployer.stop_all()
        finally:
            self.settler.close()
            self.data.ledger.close()
            if self.sinks is not None:
                self.sinks.close()
            self._save()


def run_on_stack(prepared: PreparedRun, *, bootstrap_servers: str, gateway_url: str,
                 rest: FlinkRestClient, savepoint_dir: str, topic_prefix: str, workdir: Path,
                 events: EventLog, registry_url: str = "",
                 record: Callable[[CheckResult], CheckResult] | None = None,
                 progress: Callable[[str], None] | None = None,
                 hooks: Mapping[str, Hook] | None = None,
                 sinks: IcebergSinks | None = None,
                 faults: FaultPlan | None = None,
                 flink_bootstrap_servers: str = "") -> BlueGreenRun:
    """A run whose tables live under ``topic_prefix`` of the stack's Kafka (reached by
    the statements at ``flink_bootstrap_servers`` when that differs)."""
    target = KafkaTarget(bootstrap_servers=bootstrap_servers, topic_prefix=topic_prefix,
                         group_prefix=topic_prefix, schema_registry_url=registry_url,
                         flink_bootstrap_servers=flink_bootstrap_servers)
    deployer = FlinkDeployer(gateway_url=gateway_url, rest=rest, target=target, events=events,
                             serving=ServingMap(Path(workdir) / "serving.json",
                                                topic_prefix=topic_prefix),
                             savepoint_dir=savepoint_dir)
    return BlueGreenRun(prepared, deployer=deployer, workdir=workdir, events=events,
                        record=record, progress=progress, hooks=hooks, sinks=sinks,
                        faults=faults)
