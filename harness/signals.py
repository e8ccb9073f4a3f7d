"""Turning SIGTERM into KeyboardInterrupt, so teardown runs for Ctrl-C and kill alike."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"received signal {signum}")


def teardown_on_sigterm() -> None:
    """Make SIGTERM (CI timeouts, `kill`) unwind like Ctrl-C; main thread only."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
