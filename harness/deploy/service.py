"""ServiceDeployer: the stable and canary versions of any HTTP service, behind the router.

A version is started from its command (``{port}`` filled with a free port) or, when its
spec is a URL, taken as already running. Either way it is health-checked before it gets
traffic, listed in Prometheus's discovery file with its slot and version labels (a
version without a metrics endpoint is a target that is down, which harms nothing), and
reached through the router. A canary that was rolled back keeps running (at weight 0)
for debugging. Started processes are handed to an owner (the stack's state), so a run
that is killed leaves none behind: the janitor and ``cutover down`` stop them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from harness.atomic import write_text_atomic
from harness.deploy.target import ServiceTarget, VersionSpec
from harness.errors import ConfigError
from harness.events import EventLog
from harness.stack.ports import HOST, allocate_port
from harness.stack.process import ManagedProcess
from harness.stack.service import ReadinessProbe
from harness.traffic.router import Router

SLOTS = ("stable", "canary")


class ProcessOwner(Protocol):
    """Records processes so that they are stopped even if this run is killed."""

    def adopt_process(self, name: str, process: ManagedProcess) -> None: ...

    def release_process(self, name: str) -> None: ...


@dataclass
class RunningVersion:
    """One version of the service in one slot (``process`` is None for a URL version)."""

    slot: str
    version: str
    port: int
    process: ManagedProcess | None
    host: str = HOST
    health_path: str = "/health"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def alive(self) -> bool:
        """Whether the process runs (a URL version: whether its health path answers)."""
        if self.process is not None:
            return self.process.alive()
        return healthy(self.url + self.health_path) is None


def healthy(url: str) -> str | None:
    """None when ``url`` answers 2xx, else why not."""
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError as exc:
        return f"{url} not answering ({type(exc).__name__})"
    return None if 200 <= response.status_code < 300 else \
        f"{url}: HTTP {response.status_code}"


class ServiceDeployer:
    """Starts, health-checks, routes, replaces and stops the service's versions."""

    def __init__(self, *, target: ServiceTarget, router: Router, run_dir: Path,
                 events: EventLog, targets_file: str | Path | None = None,
                 owner: ProcessOwner | None = None) -> None:
        self.target, self.router, self.events, self.owner = target, router, events, owner
        self.logs = run_dir / "logs"
        self.targets_file = Path(targets_file) if targets_file else None
        self.slots: dict[str, RunningVersion] = {}
        self.retired: list[RunningVersion] = []

    def deploy(self, slot: str, spec: VersionSpec | None = None) -> RunningVersion:
        """Start ``spec`` (default: the target's version of ``slot``) in ``slot`` and route
        the slot to it once it is healthy; a version it replaces is stopped.

        Raises:
            ConfigError: ``slot`` is not stable or canary.
            ReadinessError: The version did not become healthy (it is stopped again).
        """
        if slot not in SLOTS:
            raise ConfigError(f"slot {slot!r} is not one of {', '.join(SLOTS)}")
        spec = spec or self.target.version(slot)
        running = self._external(slot, spec) if spec.external else self._start(slot, spec)
        previous = self.slots.get(slot)
        self.slots[slot] = running
        self.router.set_address(slot, running.host, running.port)
        self._write_targets()
        self.events.emit("version_deployed", slot=slot, version=spec.label, port=running.port,
                         external=spec.external)
        if previous is not None:
            self._stop(previous)
        return running

    def _start(self, slot: str, spec: VersionSpec) -> RunningVersion:
        port = allocate_port(purpose=f"{slot} {spec.label}")
        name = f"{self.target.slug}-{slot}-{spec.label}"
        env = {**os.environ, **dict(spec.env)} if spec.env else None
        process = ManagedProcess.spawn(name, spec.argv(port), env=env,
                                       log_path=self.logs / f"{name}.log")
        if self.owner is not None:
            self.owner.adopt_process(name, process)
        running = RunningVersion(slot, spec.label, port, process,
                                 health_path=self.target.health_path)
        try:
            self._wait_healthy(running, spec)
        except BaseException:
            self._stop_process(running)  # a version that never became healthy is not kept
            raise
        return running

    def _external(self, slot: str, spec: VersionSpec) -> RunningVersion:
        host, port = spec.host_port()
        running = RunningVersion(slot, spec.label, port, None, host=host,
                                 health_path=self.target.health_path)
        self._wait_healthy(running, spec)
        return running

    def _wait_healthy(self, running: RunningVersion, spec: VersionSpec) -> None:
        process = running.process
        what = f"{running.slot} {spec.label} ({running.url}{self.target.health_path})"

        def died() -> str | None:
            if process is None or process.alive():
                return None
            return f"exited with {process.exit_code()}"

        ReadinessProbe(what, lambda: healthy(running.url + self.target.health_path), died,
                       log_path=process.log_path if process else None).wait(
            self.target.start_timeout_s)

    def promote(self) -> RunningVersion:
        """The canary's version becomes stable; the canary slot is emptied (weight 0)."""
        canary = self.slots.pop("canary")
        old = self.slots.get("stable")
        self.router.set_address("stable", canary.host, canary.port)
        self.router.set_weights({"stable": 100, "canary": 0})
        canary.slot = "stable"
        self.slots["stable"] = canary
        self._write_targets()
        self.events.emit("version_promoted", version=canary.version)
        if old is not None:
            self._stop(old)
        return canary

    def swap_slots(self) -> None:
        """Stable and canary trade places: the canary's version takes all traffic in the
        stable slot, the stable's waits at 0 % in the canary slot. Call it with all
        traffic already on the canary slot, so that no request is in flight on the
        server whose address changes first."""
        stable, canary = self.slots["stable"], self.slots["canary"]
        self.router.set_address("stable", canary.host, canary.port)
        self.router.set_weights({"stable": 100, "canary": 0})
        self.router.set_address("canary", stable.host, stable.port)
        stable.slot, canary.slot = "canary", "stable"
        self.slots = {"stable": canary, "canary": stable}
        self._write_targets()
        self.events.emit("versions_swapped", stable=canary.version, canary=stable.version)

    def version_of(self, slot: str) -> str:
        """The version label ``slot`` holds now ("" when empty)."""
        running = self.slots.get(slot)
        return running.version if running else ""

    def _stop(self, running: RunningVersion) -> None:
        self._stop_process(running)
        self.retired.append(running)
        self.events.emit("version_stopped", slot=running.slot, version=running.version)

    def _stop_process(self, running: RunningVersion) -> None:
        if running.process is None:
            return  # a URL version is not ours to stop
        running.process.stop()
        if self.owner is not None:
            self.owner.release_process(running.process.name)

    def _write_targets(self) -> None:
        if self.targets_file is None:
            return
        targets = [{"targets": [f"{v.host}:{v.port}"],
                    "labels": {"slot": v.slot, "deployed_version": v.version}}
                   for v in self.slots.values()]
        # atomic: Prometheus never reads half a file (its glob skips the temporary one)
        write_text_atomic(self.targets_file, json.dumps(targets))

    def close(self) -> None:
        for running in list(self.slots.values()):
            self._stop(running)
        self.slots.clear()
        self._write_targets()
