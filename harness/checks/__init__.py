"""Invariants as functions returning a CheckResult: ok or not, with the evidence."""

from harness.checks.result import CheckResult
from harness.checks.rows import new_field_everywhere, no_duplicates, nothing_lost, parity
from harness.checks.statements import JobSample, StatementWatcher, green_untouched

__all__ = [
    "CheckResult",
    "JobSample",
    "StatementWatcher",
    "green_untouched",
    "new_field_everywhere",
    "no_duplicates",
    "nothing_lost",
    "parity",
]
