"""Fault specs, the runner's windows and events, process lookup, and what checks excuse."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from harness.checks.statements import JobSample, green_untouched
from harness.errors import ConfigError, UnknownNameError
from harness.events import EventLog
from harness.faults.base import Fault, FaultRunner, FaultSpec, FaultWindow
from harness.faults.process import ProcessFault, find_process
from harness.faults.registry import FaultContext, build_fault
from harness.strategy.fault_plan import FaultPlan
from harness.strategy.hooks import chained


class RecordingFault(Fault):
    """A fake fault: records inject and heal calls; can fail on inject."""

    def __init__(self, spec: FaultSpec, *, fail: bool = False) -> None:
        super().__init__(spec)
        self.calls: list[str] = []
        self.fail = fail

    def inject(self) -> dict[str, Any]:
        self.calls.append("inject")
        if self.fail:
            raise RuntimeError("inject failed")
        return {"pid": 42}

    def heal(self) -> dict[str, Any]:
        self.calls.append("heal")
        return {"new_pid": 43}


class FakeProcess:
    """A fake RunningProcess: records signals, dies on SIGKILL."""

    def __init__(self, name: str) -> None:
        self.name, self.log_path, self.stop_signal = name, Path("/dev/null"), 15
        self.signals: list[int] = []
        self._alive, self.pid = True, 100

    def alive(self) -> bool:
        return self._alive

    def exit_code(self) -> int | None:
        return None if self._alive else -9

    def signal(self, signum: int) -> None:
        self.signals.append(signum)
        if signum == signal.SIGKILL:
            self._alive = False

    def stop(self, timeout_s: float = 20.0) -> None:
        self._alive = False


class FakeService:
    """A fake Service with one process; respawn starts a new fake."""

    def __init__(self, process: str) -> None:
        self.name = process
        self.process = FakeProcess(process)
        self.ready_waits = 0

    def running(self) -> dict[str, Any]:
        return {self.process.name: self.process}

    def respawn(self, process: str) -> Any:
        self.process = FakeProcess(process)
        self.process.pid = 101
        return self.process

    def wait_ready(self, timeout_s: float) -> None:
        self.ready_waits += 1


class FakeHost:
    def __init__(self, *services: FakeService) -> None:
        self.services: dict[str, Any] = {s.name: s for s in services}
        self.recorded = 0

    def record_state(self) -> None:
        self.recorded += 1


def test_a_spec_round_trips_through_json_and_names_what_it_lacks() -> None:
    spec = FaultSpec("process", "kafka", "kill", at="checked", hold_s=2.5,
                     params={"background": True})
    assert FaultSpec.from_json(spec.to_json()) == spec
    assert spec.label == "process:kill:kafka"
    with pytest.raises(ConfigError, match="lacks 'action'"):
        FaultSpec.from_json({"kind": "process", "target": "kafka"})
    with pytest.raises(ConfigError, match=r"unknown field.*when"):
        FaultSpec.from_json({"kind": "process", "target": "kafka", "action": "kill",
                             "when": "now"})
    with pytest.raises(ConfigError, match="hold_s must be >= 0"):
        FaultSpec("process", "kafka", "kill", hold_s=-1)


def test_the_runner_heals_even_when_the_injection_fails_and_keeps_both_events() -> None:
    events = EventLog()
    runner = FaultRunner(events)
    fault = RecordingFault(FaultSpec("process", "kafka", "kill"), fail=True)
    with pytest.raises(RuntimeError, match="inject failed"):
        runner.run(fault)
    assert fault.calls == ["inject", "heal"]
    phases = [e.details["phase"] for e in events.of_kind("fault")]
    assert phases == ["start", "end"]
    assert runner.windows[0].evidence == {"new_pid": 43}


def test_a_window_covers_its_time_and_the_grace_after() -> None:
    window = FaultWindow("x", 10.0, 20.0, {})
    assert window.covers(10.0) and window.covers(20.0) and not window.covers(9.9)
    assert window.covers(25.0, grace_s=5.0) and not window.covers(25.1, grace_s=5.0)
    runner = FaultRunner(EventLog())
    window = runner.run(RecordingFault(FaultSpec("data", "t", "duplicate")))
    assert runner.summary()["faults_injected"] == 1
    assert runner.summary()["faults"][0]["pid"] == 42
    assert window.to_json()["held_s"] >= 0


def test_a_process_kill_respawns_records_the_state_and_waits_for_readiness() -> None:
    kafka = FakeService("kafka")
    host = FakeHost(kafka, FakeService("postgres"))
    fault = ProcessFault(FaultSpec("process", "kafka", "kill"), host)
    assert fault.inject() == {"pid": 100, "signal": "SIGKILL", "exit_code": -9}
    assert fault.heal()["new_pid"] == 101
    assert host.recorded == 1 and kafka.ready_waits == 1


def test_a_pause_is_sigstop_then_sigcont_and_starts_nothing() -> None:
    kafka = FakeService("kafka")
    process = kafka.process
    fault = ProcessFault(FaultSpec("process", "kafka", "pause"), FakeHost(kafka))
    fault.inject()
    fault.heal()
    assert process.signals == [signal.SIGSTOP, signal.SIGCONT]
    assert kafka.process is process and kafka.ready_waits == 0


def test_an_unknown_process_or_action_lists_the_known_ones() -> None:
    host = FakeHost(FakeService("kafka"), FakeService("flink-taskmanager"))
    with pytest.raises(UnknownNameError, match="flink-taskmanager, kafka"):
        find_process(host.services, "broker")
    with pytest.raises(UnknownNameError, match="kill, pause, restart"):
        ProcessFault(FaultSpec("process", "kafka", "explode"), host)
    with pytest.raises(ConfigError, match="not external"):
        find_process({}, "kafka")


def test_build_fault_names_the_known_kinds_and_refuses_process_faults_without_a_stack(
        tmp_path: Path) -> None:
    context = FaultContext(host=None, bootstrap_servers="127.0.0.1:1", workdir=tmp_path)
    with pytest.raises(UnknownNameError, match="data, disk, network, process"):
        build_fault(FaultSpec("cosmic", "x", "ray"), context)
    with pytest.raises(ConfigError, match="not ours to kill"):
        build_fault(FaultSpec("process", "kafka", "kill"), context)
    with pytest.raises(UnknownNameError, match="abort, duplicate"):
        build_fault(FaultSpec("data", "topic", "corrupt"), context)


def _samples(states: list[tuple[float, str, int, int]]) -> list[JobSample]:
    return [JobSample(ts, "green", "j1", state, restarts, records)
            for ts, state, restarts, records in states]


RESTARTED = [(1.0, "RUNNING", 0, 10), (2.0, "RESTARTING", 1, 0), (3.0, "RUNNING", 1, 5),
             (4.0, "RUNNING", 1, 30)]


def test_a_restart_during_a_fault_is_excused_and_reported() -> None:
    result = green_untouched(_samples(RESTARTED), {"green": "j1"}, excused=[(1.5, 3.5)])
    assert result.ok, result.evidence
    assert len(result.evidence["excused_by_faults"]) == 3  # state, restart, count reset
    assert "excused by injected faults" in result.summary


def test_the_same_restart_without_a_fault_fails_green_untouched() -> None:
    result = green_untouched(_samples(RESTARTED), {"green": "j1"})
    assert not result.ok
    assert any("restarted" in p for p in result.evidence["problems"])


def test_a_job_that_never_recovers_after_the_fault_still_fails() -> None:
    stuck = [*RESTARTED[:3], (4.0, "RESTARTING", 2, 0)]
    result = green_untouched(_samples(stuck), {"green": "j1"}, excused=[(1.5, 3.5)])
    assert not result.ok
    assert any("RESTARTING at 4.0" in p for p in result.evidence["problems"])


def test_chained_hooks_call_every_map_in_order() -> None:
    calls: list[str] = []
    hooks = chained({"checked": lambda run: calls.append("fault")},
                    {"checked": lambda run: calls.append("probe"),
                     "promoted": lambda run: calls.append("after")})
    hooks["checked"](None)  # type: ignore[arg-type]
    hooks["promoted"](None)  # type: ignore[arg-type]
    assert calls == ["fault", "probe", "after"]


def test_a_plan_runs_foreground_faults_in_its_hook_and_excuses_with_grace(
        tmp_path: Path) -> None:
    host = FakeHost(FakeService("kafka"))
    context = FaultContext(host=host, bootstrap_servers="", workdir=tmp_path)
    plan = FaultPlan([FaultSpec("process", "kafka", "pause", at="plan_deploying")], context,
                     EventLog(), grace_s=7.0)
    assert list(plan.hooks()) == ["plan_deploying"]

    class Data:  # a fake run's data: no sources
        generators: ClassVar[dict[str, Any]] = {}

    class Run:
        data = Data()

    plan.hooks()["plan_deploying"](Run())  # type: ignore[arg-type]
    plan.join()
    (start, end), = plan.excused()
    assert end - start >= 7.0
    assert plan.summary()["faults_injected"] == 1


def test_only_infrastructure_faults_excuse_restarts(tmp_path: Path) -> None:
    """A pipeline must take duplicates, poison pills and aborts without a restart."""
    plan = FaultPlan([], FaultContext(host=None, bootstrap_servers="", workdir=tmp_path),
                     EventLog(), grace_s=5.0)
    plan.runner.run(RecordingFault(FaultSpec("data", "t", "poison")))
    assert plan.excused() == []
    window = plan.runner.run(RecordingFault(FaultSpec("process", "kafka", "kill")))
    assert plan.excused() == [(window.started, window.ended + 5.0)]


def test_a_bounded_green_statement_that_had_finished_is_untouched() -> None:
    ended = [(1.0, "FINISHED", 0, 4), (2.0, "FINISHED", 0, 4), (3.0, "FINISHED", 0, 4)]
    result = green_untouched(_samples(ended), {"green": "j1"})
    assert result.ok, result.evidence


def test_a_green_statement_stopped_with_a_savepoint_during_the_deployment_fails() -> None:
    # stop-with-savepoint ends a streaming job FINISHED: that is the deployment touching it
    stopped = [(1.0, "RUNNING", 0, 10), (2.0, "RUNNING", 0, 20), (3.0, "FINISHED", 0, 20)]
    result = green_untouched(_samples(stopped), {"green": "j1"})
    assert not result.ok
    assert any("FINISHED at 3.0, RUNNING when the deployment began" in p
               for p in result.evidence["problems"]), result.evidence


def test_a_green_statement_reading_only_seeds_need_not_advance() -> None:
    idle = [(1.0, "RUNNING", 0, 6), (2.0, "RUNNING", 0, 6), (3.0, "RUNNING", 0, 6)]
    assert green_untouched(_samples(idle), {"green": "j1"}, unfed=["green"]).ok
    stalled = green_untouched(_samples(idle), {"green": "j1"})
    assert stalled.evidence["problems"] == ["green: record count did not advance (6)"]
