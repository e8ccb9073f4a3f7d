"""Progress lines of the command line, on stderr, with the seconds since start."""

from __future__ import annotations

import sys
import time

_T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)
