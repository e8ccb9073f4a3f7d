"""What one scenario run records: timeline, seeds, fault schedule, inputs, checks.

The recorder's directory *is* the run's incident bundle. ``bundle.json`` is written when
the run starts and again when it ends, and the timeline is appended as events happen, so
a run that crashes still leaves a bundle that can be read and replayed.

When replaying, the recorder hands the scenario the original seeds and fault schedule
instead of the scenario's defaults, so the same data and the same faults occur.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.checks.result import CheckResult
from harness.events import Event, EventLog
from harness.results.bundle import TIMELINE, Bundle, write_manifest

Listener = Callable[[Event], None]


class ScenarioRecorder:
    """Records one scenario run into ``directory`` (its bundle)."""

    def __init__(self, directory: Path, *, nodeid: str, base_nodeid: str,
                 context: dict[str, Any], replay: Bundle | None = None,
                 listener: Listener | None = None) -> None:
        """Start recording.

        Args:
            directory: The bundle directory (created; must not hold another run).
            nodeid: The test's id in this session (with any repetition suffix).
            base_nodeid: The id that selects the same test in a new session.
            context: Resolved settings, versions and the like, stored as they are.
            replay: The bundle being replayed; its seeds and fault schedule win.
            listener: Called with every event as it is recorded (progress output).
        """
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.events = EventLog(directory / TIMELINE, listener=listener)
        self.checks: list[CheckResult] = []
        self.log_sources: list[Path] = []  # logs of processes the scenario itself runs
        self._replay = replay
        self._manifest: dict[str, Any] = {
            "nodeid": nodeid, "base_nodeid": base_nodeid, "started": time.time(),
            "outcome": "running", "seeds": {}, "fault_schedule": None, "inputs": {},
            "checks": [], "replay_of": str(replay.path) if replay else None, **context}
        self._save()

    @property
    def replaying(self) -> bool:
        return self._replay is not None

    def seed(self, name: str, default: int) -> int:
        """The seed called ``name``: the replayed bundle's, else ``default``."""
        seeds = self._replay.manifest.get("seeds", {}) if self._replay else {}
        value = int(seeds.get(name, default))
        self._manifest["seeds"][name] = value
        self._save()
        return value

    def fault_schedule(self, default: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The faults this run injects and when: the replayed bundle's, else ``default``."""
        schedule = default
        if self._replay is not None and self._replay.manifest.get("fault_schedule") is not None:
            schedule = list(self._replay.manifest["fault_schedule"])
        self._manifest["fault_schedule"] = schedule
        self.events.emit("fault_schedule", schedule=schedule)
        self._save()
        return schedule

    def record_input(self, name: str, path: Path) -> str:
        """Copy an input (a policy file, a pipeline folder) into the bundle; its digest."""
        target = self.directory / "inputs" / name
        if path.is_dir():
            shutil.copytree(path, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".git"))
        else:
            target = target / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        digest = tree_digest(path)
        self._manifest["inputs"][name] = {"source": str(path), "sha256": digest,
                                          "copy": str(target.relative_to(self.directory))}
        self._save()
        return digest

    def add_log_source(self, path: Path) -> None:
        """A log file, or a folder of ``*.log`` files, to collect if the scenario fails."""
        self.log_sources.append(path)

    def check(self, result: CheckResult) -> CheckResult:
        """Record a check's outcome and evidence; a failed check fails the scenario."""
        self.checks.append(result)
        self.events.emit("check", name=result.name, ok=result.ok, summary=result.summary,
                         evidence=result.evidence)
        self._manifest["checks"].append({"name": result.name, "ok": result.ok,
                                         "summary": result.summary})
        self._save()
        return result

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.ok]

    def finish(self, outcome: str, *, duration_s: float, failure: str | None) -> None:
        """Record how the run ended."""
        self._manifest.update(outcome=outcome, duration_s=round(duration_s, 3),
                              failure=failure, finished=time.time())
        self._save()

    def _save(self) -> None:
        write_manifest(self.directory, self._manifest)


def tree_digest(path: Path) -> str:
    """SHA-256 over a file, or over a folder's relative paths and contents (sorted)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and ".git" not in p.parts)
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
