"""ServiceDeployer: the stable and canary versions of a service, as local processes.

Each version runs on its own port, is health-checked before it gets traffic, is listed in
Prometheus's discovery file with its slot and version labels, and is reached through the
router. A canary that was rolled back keeps running (at weight 0) for debugging.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.events import EventLog
from harness.stack.ports import HOST, allocate_port
from harness.stack.process import ManagedProcess
from harness.stack.service import ReadinessProbe, http_ok
from harness.traffic.router import Router

SLOTS = ("stable", "canary")


@dataclass
class RunningVersion:
    """One version of the service in one slot."""

    slot: str
    version: str
    port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


class ServiceDeployer:
    """Starts, health-checks, routes, replaces and stops the service's versions.

    ``command(version, port)`` returns the argv of one version (without the Python
    executable); versions run as ``python -m ...`` under this interpreter.
    """

    def __init__(self, *, command: Callable[[str, int], list[str]], router: Router,
                 run_dir: Path, events: EventLog, targets_file: str | Path | None = None,
                 health_path: str = "/health", start_timeout_s: float = 60.0) -> None:
        self.command, self.router, self.events = command, router, events
        self.logs = run_dir / "logs"
        self.targets_file = Path(targets_file) if targets_file else None
        self.health_path, self.start_timeout_s = health_path, start_timeout_s
        self.slots: dict[str, RunningVersion] = {}
        self.retired: list[RunningVersion] = []

    def deploy(self, slot: str, version: str) -> RunningVersion:
        """Start ``version`` in ``slot`` and route the slot to it once it is healthy."""
        port = allocate_port(purpose=f"{slot} {version}")
        process = ManagedProcess.spawn(
            f"{slot}-{version}", [sys.executable, *self.command(version, port)],
            log_path=self.logs / f"data-tier-{slot}-{version}.log")
        running = RunningVersion(slot, version, port, process)
        try:
            ReadinessProbe(f"{slot} {version}",
                           lambda: http_ok(running.url + self.health_path),
                           lambda: None if process.alive() else f"exit {process.exit_code()}",
                           log_path=process.log_path).wait(self.start_timeout_s)
        except BaseException:
            process.stop()  # a version that never became healthy is not left behind
            raise
        previous = self.slots.get(slot)
        self.slots[slot] = running
        self.router.set_address(slot, HOST, port)
        self._write_targets()
        self.events.emit("version_deployed", slot=slot, version=version, port=port)
        if previous is not None:
            self._stop(previous)
        return running

    def promote(self) -> RunningVersion:
        """The canary's version becomes stable; the canary slot is emptied (weight 0)."""
        canary = self.slots.pop("canary")
        old = self.slots.get("stable")
        self.router.set_address("stable", HOST, canary.port)
        self.router.set_weights({"stable": 100, "canary": 0})
        canary.slot = "stable"
        self.slots["stable"] = canary
        self._write_targets()
        self.events.emit("version_promoted", version=canary.version)
        if old is not None:
            self._stop(old)
        return canary

    def _stop(self, running: RunningVersion) -> None:
        running.process.stop()
        self.retired.append(running)
        self.events.emit("version_stopped", slot=running.slot, version=running.version)

    def _write_targets(self) -> None:
        if self.targets_file is None:
            return
        targets = [{"targets": [f"{HOST}:{v.port}"],
                    "labels": {"slot": v.slot, "deployed_version": v.version}}
                   for v in self.slots.values()]
        tmp = self.targets_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(targets))
        tmp.replace(self.targets_file)  # atomic: Prometheus never reads half a file

    def close(self) -> None:
        for running in list(self.slots.values()):
            self._stop(running)
        self.slots.clear()
        self._write_targets()
