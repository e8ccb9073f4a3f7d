"""Files replaced atomically: a reader sees the old file or the new one, never half.

Every file another process reads while cutover writes it goes through here: the stack's
state file (`cutover down`, the janitor), the feature flags and serving map (the service
under test), Prometheus's targets file, run states, bundles and reports.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_text_atomic(path: Path, text: str, *, mode: int = 0o644) -> Path:
    """Write ``text`` to ``path`` through a temporary file beside it, synced, then
    ``os.replace``; the directory is created when missing. ``mode`` is the file's
    permission bits (a temporary file starts as 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: Path, data: Any, *,
                      default: Callable[[Any], Any] | None = None) -> Path:
    """Write ``data`` as indented JSON (keys sorted) to ``path`` atomically.

    Args:
        path: The file to replace; its directory is created when missing.
        data: Anything ``json.dumps`` accepts.
        default: ``json.dumps``'s fallback for other values (e.g. ``str`` for evidence).
    """
    text = json.dumps(data, indent=2, sort_keys=True, default=default) + "\n"
    return write_text_atomic(path, text)
