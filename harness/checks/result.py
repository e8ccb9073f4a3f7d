"""The outcome of a check, with the evidence a report can show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import CutoverError

EXAMPLES = 5  # offending keys shown per check: enough to debug, short enough to read


class CheckFailed(CutoverError, AssertionError):
    """A check did not hold; the message carries its evidence."""


@dataclass(frozen=True)
class CheckResult:
    """``ok`` is the verdict; ``summary`` one line for people; ``evidence`` the values."""

    name: str
    ok: bool
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok

    def require(self) -> CheckResult:
        """Return self when ok; raise CheckFailed with the evidence otherwise."""
        if not self.ok:
            raise CheckFailed(f"{self.name}: {self.summary}; evidence: {self.evidence}")
        return self
