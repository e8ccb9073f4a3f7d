"""The faults a blue/green run injects at its phases, and the windows they were on.

A spec's ``at`` names the phase after whose step it runs (``v1_settled``,
``plan_deploying``: while v2 deploys under the live feed, ``v2_settled``, ``checked``:
just before the switch, ``promoted``). A fault whose ``params.background`` is true runs
beside the next step (a broker restarting *during* the switch); the others hold the run
while they are on. A data fault's target is a source table of the product; the plan
turns it into that table's topic, and an ``abort`` gets fresh records of its shape.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError, CutoverError, UnknownNameError
from harness.events import EventLog
from harness.faults.base import FaultRunner, FaultSpec
from harness.faults.registry import FaultContext, build_fault

if TYPE_CHECKING:
    from harness.strategy.bluegreen import BlueGreenRun
    from harness.strategy.hooks import Hook

RECOVERY_GRACE_S = 30.0  # restarts seen this long after a fault healed are its doing


class FaultPlan:
    """Faults by phase for one run, each injected once, all on one timeline."""

    def __init__(self, specs: Sequence[FaultSpec], context: FaultContext, events: EventLog,
                 *, grace_s: float = RECOVERY_GRACE_S) -> None:
        self.specs, self.context, self.grace_s = list(specs), context, grace_s
        self.runner = FaultRunner(events)
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []

    def phases(self) -> list[str]:
        return sorted({spec.at for spec in self.specs})

    def hooks(self) -> dict[str, Hook]:
        """Phase -> the hook that injects that phase's faults."""
        return {phase: self._hook(phase) for phase in self.phases()}

    def _hook(self, phase: str) -> Hook:
        def inject(run: BlueGreenRun) -> None:
            for spec in (s for s in self.specs if s.at == phase):
                fault = build_fault(resolved(spec, run), self.context)
                if spec.params.get("background"):
                    thread = threading.Thread(target=self._background, args=(fault,),
                                              name=f"fault-{spec.label}", daemon=True)
                    thread.start()
                    self._threads.append(thread)
                else:
                    self.runner.run(fault)
        return inject

    def _background(self, fault: Any) -> None:
        try:
            self.runner.run(fault)
        except BaseException as exc:  # raised again by join()
            self._errors.append(exc)

    def join(self, timeout_s: float = 300.0) -> None:
        """Wait for background faults to heal; raises the first one's error, or names
        the faults still on after ``timeout_s``."""
        for thread in self._threads:
            thread.join(timeout_s)
        if self._errors:
            raise self._errors[0]
        stuck = [t.name for t in self._threads if t.is_alive()]
        if stuck:
            raise CutoverError(f"faults still on after {timeout_s:.0f} s: {stuck}; their "
                               "heal is waiting on the service (see its log)")

    def excused(self) -> list[tuple[float, float]]:
        """(start, end + grace) of every infrastructure fault so far: what the checks
        excuse. Data faults excuse nothing: a pipeline must take duplicates, poison pills
        and aborted transactions without a restart."""
        return [(w.started, w.ended + self.grace_s) for w in self.runner.windows
                if not w.label.startswith("data:")]

    def summary(self) -> dict[str, Any]:
        return self.runner.summary()


WAREHOUSE = "iceberg-warehouse"  # a disk fault's target: the stack's Iceberg warehouse


def resolved(spec: FaultSpec, run: BlueGreenRun) -> FaultSpec:
    """``spec`` with a source table turned into its topic (and an abort's records), and
    ``iceberg-warehouse`` into the warehouse's folder."""
    if spec.kind == "disk" and spec.target == WAREHOUSE:
        if run.sinks is None:
            raise ConfigError(f"fault {spec.label}: the run has no Iceberg sinks, so no "
                              "warehouse to fill; give the run iceberg_sinks")
        folder = run.sinks.endpoint.warehouse.removeprefix("file://")
        return FaultSpec(spec.kind, folder, spec.action, spec.at, spec.hold_s, spec.params)
    if spec.kind != "data":
        return spec
    if spec.target not in run.data.generators:
        raise UnknownNameError("source table", spec.target, sorted(run.data.generators),
                               option=False)
    table = spec.target
    params = dict(spec.params)
    if spec.action == "abort" and "records" not in params:
        generator = run.data.generators[table]
        params["records"] = [generator.record() for _ in range(int(params.get("count", 20)))]
        params["key"] = run.data.plan.source(table).key
    return FaultSpec(spec.kind, run.data.topic_of(table), spec.action, spec.at, spec.hold_s,
                     {**params, "table": table})
