"""A private run root for tests that start a stack of their own."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.stack.rundir import recorded_runs, stop_recorded


@contextmanager
def private_run_root() -> Iterator[Path]:
    """A run root under /tmp; whatever a failing test left running in it is stopped."""
    # Under /tmp with o+x, so the unprivileged PostgreSQL user can reach its data directory.
    path = Path(tempfile.mkdtemp(prefix="cutover-test-", dir="/tmp"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        for state in recorded_runs(path):
            stop_recorded(state)
        shutil.rmtree(path, ignore_errors=True)
