"""A private run root for tests that start a stack of their own."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def private_run_root() -> Iterator[Path]:
    # Under /tmp with o+x, so the unprivileged PostgreSQL user can reach its data directory.
    path = Path(tempfile.mkdtemp(prefix="cutover-test-", dir="/tmp"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
