"""Where a service's commands run: as local processes, or inside containers.

Services describe *what* to run (a command line, its environment, its user); an executor
decides *where*. The local provider runs commands as child processes; the containers
provider runs the very same command lines in containers that share the host's network
and see the run directory and the artifact cache at the same paths.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from harness.stack.process import ManagedProcess


class RunningProcess(Protocol):
    """A started long-running command (a process or a container)."""

    name: str
    log_path: Path
    stop_signal: int

    @property
    def pid(self) -> int: ...

    def alive(self) -> bool: ...

    def exit_code(self) -> int | None: ...

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the command and everything it started (process faults)."""
        ...

    def stop(self, timeout_s: float = 20.0) -> None: ...


class Executor(Protocol):
    """Runs a service's commands somewhere."""

    def spawn(self, name: str, argv: Sequence[str], *, log_path: Path,
              env: dict[str, str] | None = None, cwd: Path | None = None,
              user: int | None = None, group: int | None = None,
              stop_signal: int = signal.SIGTERM) -> RunningProcess:
        """Start a long-running command with stdout and stderr going to ``log_path``."""
        ...

    def run(self, argv: Sequence[str], *, timeout: float, env: dict[str, str] | None = None,
            cwd: Path | None = None, user: int | None = None,
            group: int | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command to completion, capturing its output as text."""
        ...


class LocalExecutor:
    """Commands as child processes of this one (each in its own session)."""

    def spawn(self, name: str, argv: Sequence[str], *, log_path: Path,
              env: dict[str, str] | None = None, cwd: Path | None = None,
              user: int | None = None, group: int | None = None,
              stop_signal: int = signal.SIGTERM) -> RunningProcess:
        return ManagedProcess.spawn(name, argv, log_path=log_path, env=env, cwd=cwd,
                                    user=user, group=group, stop_signal=stop_signal)

    def run(self, argv: Sequence[str], *, timeout: float, env: dict[str, str] | None = None,
            cwd: Path | None = None, user: int | None = None,
            group: int | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=cwd, user=user, group=group,
                              extra_groups=[] if user is not None else None, check=False)


LOCAL = LocalExecutor()
