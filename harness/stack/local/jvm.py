"""What the local JVM services share: a process with a log, a readiness probe, teardown."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.stack.process import ManagedProcess, peak_rss_bytes
from harness.stack.service import ProcessRecord, Service


class JvmService(Service):
    """One JVM process whose home and log live in the run directory."""

    def __init__(self, *, run_dir: Path, java: str) -> None:
        self.java = java
        self.home = run_dir / self.name
        self.log_path = run_dir / "logs" / f"{self.name}.log"
        self.process: ManagedProcess | None = None

    def spawn(self, argv: list[str]) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess.spawn(self.name, [self.java, *argv],
                                            log_path=self.log_path, cwd=self.home)

    def died(self) -> str | None:
        if self.process is None or self.process.alive():
            return None
        return f"the JVM exited with code {self.process.exit_code()}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def clean(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def collect_logs(self, dest: Path) -> list[Path]:
        return [self.log_path] if self.log_path.exists() else []

    def processes(self) -> list[ProcessRecord]:
        if self.process is None:
            return []
        return [ProcessRecord(self.name, self.process.pid, self.process.stop_signal,
                              str(self.log_path))]

    def stats(self) -> dict[str, int]:
        return {"peak_rss_bytes": peak_rss_bytes(self.process.pid) if self.process else 0}
