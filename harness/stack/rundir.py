"""Run directories and their state files; the janitor that stops abandoned stacks.

A run directory holds one stack's data and logs, plus ``stack.json``: which processes run,
which process owns them, and whether they were kept on purpose (`cutover up`,
``--cutover-keep``). Anything not kept whose owner is gone is stopped by the janitor.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from harness.atomic import write_text_atomic
from harness.errors import StackStateError
from harness.stack.mounts import unmount_all
from harness.stack.process import group_alive, stop_process_group

STATE_FILE = "stack.json"
KEEP_FINISHED_RUNS = 5


@dataclass
class StackState:
    """What ``stack.json`` records about one run."""

    run_id: str
    run_dir: str
    provider: str
    owner_pid: int
    kept: bool = False
    created: float = field(default_factory=time.time)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write(self) -> None:
        write_text_atomic(Path(self.run_dir) / STATE_FILE, json.dumps(self.__dict__, indent=2))

    @classmethod
    def read(cls, run_dir: Path) -> StackState:
        path = run_dir / STATE_FILE
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise StackStateError(f"no stack recorded in {run_dir} (no {STATE_FILE})") from None
        except (ValueError, TypeError) as exc:
            raise StackStateError(f"{path} is unreadable ({exc}); remove the directory") from exc

    def pgids(self) -> list[tuple[str, int, int]]:
        """(service, pid, stop signal) of every recorded process, in reverse start order."""
        out = []
        for name, service in reversed(list(self.services.items())):
            for proc in service.get("processes", []):
                out.append((name, int(proc["pid"]), int(proc["stop_signal"])))
        return out

    def alive(self) -> bool:
        return any(group_alive(pid) for _, pid, _ in self.pgids())

    def owner_alive(self) -> bool:
        return psutil.pid_exists(self.owner_pid) and self.owner_pid != 0


def prepare_run_root(run_root: Path) -> Path:
    """Create ``run_root/runs`` searchable by the unprivileged PostgreSQL user."""
    runs = run_root / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for path in (run_root, runs):
        os.chmod(path, 0o755)
    return runs


def new_run_dir(run_root: Path) -> Path:
    runs = prepare_run_root(run_root)
    run_id = time.strftime("run-%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    path = runs / run_id
    path.mkdir(mode=0o755)
    return path


def recorded_runs(run_root: Path) -> list[StackState]:
    """Every readable state file under ``run_root``, oldest first."""
    states = []
    runs = run_root / "runs"
    if not runs.is_dir():
        return []
    for child in sorted(runs.iterdir()):
        if (child / STATE_FILE).is_file():
            try:
                states.append(StackState.read(child))
            except StackStateError:
                continue
    return states


def stop_recorded(state: StackState, *, timeout_s: float = 20.0) -> list[str]:
    """Stop every process a state file records; returns the services that were running."""
    stopped = []
    for name, pid, stop_signal in state.pgids():
        if stop_process_group(pid, stop_signal, timeout_s=timeout_s):
            stopped.append(name)
    unmount_all(Path(state.run_dir))  # the size-limited filesystems of disk faults
    return stopped


def janitor(run_root: Path) -> list[str]:
    """Stop stacks whose owner died without tearing down; prune old run directories.

    Returns the run ids it stopped. Kept stacks are left alone (`cutover down` stops them).
    """
    stopped = []
    finished = []
    for state in recorded_runs(run_root):
        if state.kept or state.owner_alive():
            continue
        if state.alive():
            stop_recorded(state)
            stopped.append(state.run_id)
        else:
            unmount_all(Path(state.run_dir))
        finished.append(state)
    for state in finished[:-KEEP_FINISHED_RUNS]:
        shutil.rmtree(state.run_dir, ignore_errors=True)
    return stopped
