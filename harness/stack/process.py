"""Child processes the local provider owns: spawn, watch, stop, with no orphans.

Each service runs in its own session (process group), so stopping kills every process it
forked. Pids are also written to the run's state file, so `cutover down` and the janitor
can stop a stack that another process started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil


def tail(path: Path, lines: int = 25) -> str:
    """Last ``lines`` lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class ManagedProcess:
    """A running child process with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int = signal.SIGTERM

    @classmethod
    def spawn(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        user: int | None = None,
        group: int | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> ManagedProcess:
        """Start ``argv`` in a new session with stdout and stderr going to ``log_path``."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
                user=user,
                group=group,
                extra_groups=[] if user is not None else None,
            )
        return cls(name, popen, log_path, stop_signal)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def exit_code(self) -> int | None:
        return self.popen.poll()

    def signal(self, signum: int) -> None:
        """Signal the whole process group; a group already gone is not an error."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop the whole process group: the service's signal, then SIGKILL."""
        stop_process_group(self.pid, self.stop_signal, timeout_s=timeout_s)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def stop_process_group(pgid: int, stop_signal: int = signal.SIGTERM, *,
                       timeout_s: float = 20.0) -> bool:
    """Signal every process of group ``pgid`` and wait; SIGKILL what is left.

    Returns True when the group existed. Safe to call on a group that is already gone.
    """
    try:
        os.killpg(pgid, stop_signal)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        members = [p for p in _group_members(pgid) if _is_running(p)]
        if not members:
            return True
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    psutil.wait_procs(_group_members(pgid), timeout=5)
    return True


def _is_running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def group_alive(pgid: int) -> bool:
    """True while any process of the group is running (zombies do not count)."""
    return any(_is_running(p) for p in _group_members(pgid))


def peak_rss_bytes(pid: int) -> int:
    """Peak resident set size (VmHWM) of a process and its children, in bytes."""
    total = 0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for proc in procs:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total
