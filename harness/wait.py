"""Waiting on a condition with a timeout and a message; never a bare sleep."""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.errors import CutoverError


class WaitTimeout(CutoverError):
    """A condition did not hold in time; the message says what and the last reason."""


def wait_until(condition: Callable[[], str | None], *, timeout_s: float, what: str,
               interval_s: float = 0.5) -> float:
    """Poll ``condition`` until it returns None (met); else it returns why not yet.

    Returns the seconds waited; raises :class:`WaitTimeout` naming ``what`` and the last
    reason when ``timeout_s`` passes.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    reason: str | None = "not checked"
    while True:
        reason = condition()
        if reason is None:
            return time.monotonic() - started
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"{what}: not reached within {timeout_s:.0f}s ({reason})")
        time.sleep(interval_s)
