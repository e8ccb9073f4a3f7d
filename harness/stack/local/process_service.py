"""What the local single-process services share: a home and a log in the run directory,
a death check for readiness probes, and the same teardown."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from harness.stack.executor import RunningProcess
from harness.stack.process import peak_rss_bytes
from harness.stack.service import Service


class ProcessService(Service):
    """One process whose home (config, data) and log live in the run directory."""

    def __init__(self, *, run_dir: Path) -> None:
        self.home = run_dir / self.name
        self.log_path = run_dir / "logs" / f"{self.name}.log"
        self.process: RunningProcess | None = None
        self._command: tuple[list[str], dict[str, Any]] | None = None

    def spawn(self, argv: list[str], **options: Any) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        options.setdefault("cwd", self.home)
        self._command = (argv, options)
        self._launch()

    def _launch(self) -> RunningProcess:
        """Start the process with the command line recorded by :meth:`spawn`."""
        assert self._command is not None
        argv, options = self._command
        self.process = self.executor.spawn(self.name, argv, log_path=self.log_path, **options)
        return self.process

    def running(self) -> dict[str, RunningProcess]:
        return {self.name: self.process} if self.process is not None else {}

    def respawn(self, process: str) -> RunningProcess:
        if process != self.name or self._command is None:
            return super().respawn(process)
        return self._launch()

    def died(self) -> str | None:
        """Why the service can no longer become ready, or None while it runs."""
        if self.process is None or self.process.alive():
            return None
        return f"{self.name} exited with code {self.process.exit_code()}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def clean(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def collect_logs(self, dest: Path) -> list[Path]:
        return [self.log_path] if self.log_path.exists() else []

    def stats(self) -> dict[str, int]:
        return {"peak_rss_bytes": peak_rss_bytes(self.process.pid) if self.process else 0}


class JvmService(ProcessService):
    """A ProcessService whose process is a JVM."""

    def __init__(self, *, run_dir: Path, java: str) -> None:
        super().__init__(run_dir=run_dir)
        self.java = java

    def spawn_java(self, argv: list[str]) -> None:
        self.spawn([self.java, *argv])
