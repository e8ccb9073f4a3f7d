"""The Service lifecycle every provider implements: start, wait_ready, stop, clean."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.errors import ConfigError, ServiceStartError
from harness.stack.endpoint import Endpoint
from harness.stack.executor import LOCAL, Executor, RunningProcess
from harness.stack.process import tail


@dataclass(frozen=True)
class ProcessRecord:
    """What a state file keeps of a running process, to stop it from another process."""

    name: str
    pid: int
    stop_signal: int
    log_path: str


class Service(ABC):
    """A service of the stack (PostgreSQL, Kafka, ...).

    Teardown order is fixed: ``stop`` → ``collect_logs`` → ``clean``; each is best-effort.
    """

    name: str
    #: Where the service's commands run: local processes unless its provider places it
    #: elsewhere (containers) before :meth:`start`. Services of a stack that runs
    #: elsewhere (external, an existing cluster) run no commands and ignore it.
    executor: Executor = LOCAL

    @abstractmethod
    def start(self) -> None:
        """Prepare and launch the service; returns without waiting for readiness."""

    @abstractmethod
    def wait_ready(self, timeout_s: float) -> None:
        """Block until the service answers a real request, or raise ServiceStartError."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the service and everything it started."""

    @abstractmethod
    def clean(self) -> None:
        """Remove the service's data (logs stay where collect_logs put them)."""

    @abstractmethod
    def endpoint(self) -> Endpoint:
        """How to reach the service; valid once started."""

    def collect_logs(self, dest: Path) -> list[Path]:
        """Copy or point to the service's logs under ``dest``; returns the log paths."""
        return []

    def processes(self) -> list[ProcessRecord]:
        """Processes to record in the state file."""
        return [ProcessRecord(p.name, p.pid, p.stop_signal, str(p.log_path))
                for p in self.running().values()]

    def running(self) -> dict[str, RunningProcess]:
        """The service's processes by name (what process faults act on)."""
        return {}

    def respawn(self, process: str) -> RunningProcess:
        """Start ``process`` again with the command line it was started with (after a
        kill); the caller waits for readiness."""
        raise ConfigError(f"{self.name} cannot start its process {process!r} again")

    def stats(self) -> dict[str, Any]:
        """Resource figures for benchmarks (e.g. peak RSS)."""
        return {}


@dataclass
class ReadinessProbe:
    """Wait for a condition with a timeout and a message; never a bare sleep.

    ``check`` returns None when ready, or a short reason why not yet. ``died`` returns a
    reason when the service can no longer become ready (its process exited).
    """

    service: str
    check: Callable[[], str | None]
    died: Callable[[], str | None] = lambda: None
    log_path: Path | None = None
    interval_s: float = 0.2
    hint: str = ""
    last_reason: str = field(default="not checked yet", init=False)

    def wait(self, timeout_s: float) -> float:
        """Wait until ready; returns the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout_s
        while True:
            death = self.died()
            if death:
                raise self._error(f"died during start ({death})")
            reason = self.check()
            if reason is None:
                return time.monotonic() - started
            self.last_reason = reason
            if time.monotonic() >= deadline:
                message = f"not ready after {timeout_s:.0f}s (last check: {reason})"
                if self.hint:
                    message += f"; {self.hint}"
                raise self._error(message)
            time.sleep(self.interval_s)

    def _error(self, reason: str) -> ServiceStartError:
        log = self.log_path
        return ServiceStartError(
            self.service, reason, log_path=str(log) if log else "",
            log_tail=tail(log) if log else "",
        )


def http_ok(url: str) -> str | None:
    """None when ``url`` answers 200, else why not (for readiness probes)."""
    try:
        response = httpx.get(url, timeout=2)
    except httpx.HTTPError as exc:
        return f"{url} not answering ({type(exc).__name__})"
    return None if response.status_code == 200 else f"{url}: HTTP {response.status_code}"
