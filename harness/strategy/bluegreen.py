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

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.result import CheckResult
from harness.checks.statements import StatementWatcher, green_untouched
from harness.data.product import ProductData
from harness.deploy.flink import FlinkDeployer
from harness.events import EventLog
from harness.flink.rest import TERMINAL, FlinkRestClient
from harness.flink.settle import Settler
from harness.pipeline.dialect import KafkaTarget
from harness.sampler import TopicCountSampler, sample_redeployed
from harness.strategy.bluegreen_checks import (
    SinkReader,
    comparison_checks,
    expectations_text,
    serving_check,
    sink_checks,
    tables_of,
)
from harness.strategy.bluegreen_setup import PreparedRun
from harness.strategy.flags import write_json_atomic
from harness.strategy.serving import ServingMap

STATE_FILE = "bluegreen-state.json"
Hook = Callable[["BlueGreenRun"], None]


@dataclass
class BlueGreenState:
    """What a run has done, as plain JSON (the file is rewritten after every step)."""

    phase: str = "init"
    statements: dict[str, str] = field(default_factory=dict)  # running: name -> job id
    stopped: dict[str, str] = field(default_factory=dict)
    savepoints: dict[str, str] = field(default_factory=dict)
    topic_prefix: str = ""
    rest_url: str = ""
    bootstrap_servers: str = ""
    checks: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class BlueGreenOutcome:
    """The verdict: every check held or not, with the plan and the figures."""

    ok: bool
    phase: str
    checks: list[CheckResult]
    plan: dict[str, Any]
    data_plan: dict[str, Any]
    expectations: dict[str, str]
    figures: dict[str, float]
    serving_map: str

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        return {"outcome": "passed" if self.ok else "failed", "phase": self.phase,
                "plan": self.plan, "data_plan": self.data_plan,
                "checks": [{"name": c.name, "ok": c.ok, "summary": c.summary,
                            "evidence": c.evidence} for c in self.checks],
                "expectations": self.expectations, "figures": self.figures,
                "serving_map": self.serving_map}


class BlueGreenRun:
    """One blue/green verification of ``prepared`` on a stack's Kafka and Flink.

    Args:
        prepared: The resolved spec (:func:`~harness.strategy.bluegreen_setup.prepare`).
        deployer: Deploys into the run's topic namespace; its serving map is the run's.
        workdir: Where the state file goes.
        events: The run's timeline.
        record: Called with every check result (a scenario recorder's ``check``).
        progress: Called with one line per step.
        hooks: Phase name -> called after the step that entered it (fault injection).
    """

    def __init__(self, prepared: PreparedRun, *, deployer: FlinkDeployer, workdir: Path,
                 events: EventLog, record: Callable[[CheckResult], CheckResult] | None = None,
                 progress: Callable[[str], None] | None = None,
                 hooks: Mapping[str, Hook] | None = None) -> None:
        self.prepared, self.deployer, self.events = prepared, deployer, events
        self.rest: FlinkRestClient = deployer.rest
        self.workdir = Path(workdir)
        self.state_path = self.workdir / STATE_FILE
        self._record = record or (lambda result: result)
        self._progress = progress or (lambda line: None)
        self.hooks = dict(hooks or {})
        self.checks: list[CheckResult] = []
        self.state = BlueGreenState(topic_prefix=deployer.target.topic_prefix,
                                    rest_url=self.rest.rest_url,
                                    bootstrap_servers=deployer.target.bootstrap_servers)
        self.data = ProductData(prepared.data, bootstrap_servers=deployer.target
                                .bootstrap_servers, topic_of=self._source_topic,
                                seed=prepared.spec.seed)
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
        while self.state.phase != "done":
            self.step()
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
        self._progress(f"deploying {self.prepared.spec.from_ref}: "
                       f"{len(self.prepared.v1.tables)} tables")
        started = self.deployer.deploy(self.prepared.v1, extra_ddl=self.prepared.extra_ddl)
        self._v1_jobs = {name: s.job_id or "" for name, s in started.items()}
        return "v1_deployed"

    def _seed(self) -> str:
        self.data.seed_all(progress=self._progress)
        self._last_input = time.monotonic()
        self._settle("v1")
        tables = self._v1_tables()
        self.reader.clear()
        self._add(sink_checks(self.prepared, self.reader, self.data, tables, v2=False),
                  stage="v1")
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
        self._add([green_untouched(watcher.samples, {s.name: self._v1_jobs.get(s.name, "")
                                                     for s in green})], stage="v2")
        return "v2_settled"

    def _check_both(self) -> str:
        plan = self.prepared.plan
        self.reader.clear()
        self.reader.prefetch(tables_of(self.prepared, v1=True, v2=True))
        self._add(sink_checks(self.prepared, self.reader, self.data, self._v1_tables(),
                              v2=False), stage="v1")
        self._add(sink_checks(self.prepared, self.reader, self.data,
                              {r.table: r.new_name for r in plan.redeploy}, v2=True),
                  stage="v2")
        self._add(comparison_checks(self.prepared, self.reader), stage="v1_v2")
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
        return "promoted"

    def _rollback(self) -> str:
        plan = self.prepared.plan
        v2_jobs = {r.new_name: self.deployer.statements[r.new_name].job_id or ""
                   for r in plan.redeploy if r.new_name in self.deployer.statements}
        self._progress("rolling back: v2 stops and its tables are dropped; v1 serves"
                       + (" (resumed from its savepoints)" if self.deployer.savepoints else ""))
        self.deployer.rollback(plan, model=self.prepared.v1)
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
        return "rolled_back"

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
        waited = self.settler.wait(jobs, timeout_s=self.prepared.spec.settle_timeout_s)
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
            if self.sampler is not None:
                self.sampler.stop()
            self.deployer.stop_all()
        finally:
            self.settler.close()
            self._save()


def cleanup_recorded(state_path: Path) -> list[str]:
    """Cancel the jobs a crashed run's state file lists; returns what was cancelled."""
    state = json.loads(Path(state_path).read_text())
    rest = FlinkRestClient(state["rest_url"])
    cancelled = []
    try:
        for name, job_id in state.get("statements", {}).items():
            if job_id and rest.job(job_id).state not in TERMINAL:
                rest.cancel(job_id, wait=False)
                cancelled.append(name)
    finally:
        rest.close()
    return cancelled


def run_on_stack(prepared: PreparedRun, *, bootstrap_servers: str, gateway_url: str,
                 rest: FlinkRestClient, savepoint_dir: str, topic_prefix: str, workdir: Path,
                 events: EventLog, registry_url: str = "",
                 record: Callable[[CheckResult], CheckResult] | None = None,
                 progress: Callable[[str], None] | None = None,
                 hooks: Mapping[str, Hook] | None = None) -> BlueGreenRun:
    """A run whose tables live under ``topic_prefix`` of the stack's Kafka."""
    target = KafkaTarget(bootstrap_servers=bootstrap_servers, topic_prefix=topic_prefix,
                         group_prefix=topic_prefix, schema_registry_url=registry_url)
    deployer = FlinkDeployer(gateway_url=gateway_url, rest=rest, target=target, events=events,
                             serving=ServingMap(Path(workdir) / "serving.json",
                                                topic_prefix=topic_prefix),
                             savepoint_dir=savepoint_dir)
    return BlueGreenRun(prepared, deployer=deployer, workdir=workdir, events=events,
                        record=record, progress=progress, hooks=hooks)
