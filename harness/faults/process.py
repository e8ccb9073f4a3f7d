"""Process faults on any stack service: SIGKILL, SIGSTOP/SIGCONT, or a graceful restart.

The target is a process name as the stack records it (``kafka``, ``postgres``,
``connect``, ``registry``, ``flink-jobmanager``, ``flink-taskmanager``). A killed or
stopped process is started again with its own command line when the fault heals, and
the fault waits until the service answers again; the stack's state file is rewritten
with the new pid so ``cutover down`` and the janitor still find it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Mapping
from typing import Any, Protocol

from harness.errors import ConfigError, UnknownNameError
from harness.faults.base import Fault, FaultSpec
from harness.stack.executor import RunningProcess
from harness.stack.service import Service
from harness.wait import wait_until

ACTIONS = ("kill", "pause", "restart")


class ProcessHost(Protocol):
    """What a process fault needs of a stack (``harness.stack.Stack`` is one)."""

    services: dict[str, Service]

    def record_state(self) -> None: ...


def find_process(services: Mapping[str, Service], name: str) -> tuple[Service, RunningProcess]:
    """The service running the process ``name`` and that process."""
    known: list[str] = []
    for service in services.values():
        running = service.running()
        if name in running:
            return service, running[name]
        known += running
    if not known:
        raise ConfigError(f"no process of the stack can be faulted (process {name!r}); "
                          "process faults need services this run started (not external)")
    raise UnknownNameError("process", name, known, option=False)


class ProcessFault(Fault):
    """``kill`` (SIGKILL, started again on heal), ``pause`` (SIGSTOP, SIGCONT on heal) or
    ``restart`` (the service's own stop signal, started again on heal)."""

    def __init__(self, spec: FaultSpec, host: ProcessHost, *,
                 ready_timeout_s: float = 120.0) -> None:
        super().__init__(spec)
        if spec.action not in ACTIONS:
            raise UnknownNameError("process fault action", spec.action, list(ACTIONS), option=False)
        self.host = host
        self.ready_timeout_s = float(spec.params.get("ready_timeout_s", ready_timeout_s))
        self.service, self.process = find_process(host.services, spec.target)

    def inject(self) -> dict[str, Any]:
        pid = self.process.pid
        if self.spec.action == "pause":
            self.process.signal(signal.SIGSTOP)
            return {"pid": pid, "signal": "SIGSTOP"}
        if self.spec.action == "kill":
            self.process.signal(signal.SIGKILL)
        else:
            self.process.stop()
        wait_until(lambda: f"pid {pid} still running" if self.process.alive() else None,
                   timeout_s=30, what=f"{self.spec.target} exits", interval_s=0.1)
        return {"pid": pid, "signal": "SIGKILL" if self.spec.action == "kill" else "stop",
                "exit_code": self.process.exit_code()}

    def heal(self) -> dict[str, Any]:
        if self.spec.action == "pause":
            self.process.signal(signal.SIGCONT)
            return {"resumed": True}
        if self.process.alive():  # the injection never took: nothing to start again
            return {"new_pid": None}
        started = time.monotonic()
        self.process = self.service.respawn(self.spec.target)
        self.host.record_state()
        self.service.wait_ready(self.ready_timeout_s)
        return {"new_pid": self.process.pid,
                "ready_after_s": round(time.monotonic() - started, 2)}
