"""The MetricSource seam: where the judge's numbers come from.

Like a Flagger metrics provider, a source is two methods: run a query, and say whether the
backend answers at all. A Prometheus source will live beside this module; tests use a fake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from harness.errors import CutoverError


class MetricSourceError(CutoverError):
    """A metric query failed or returned something the harness cannot read."""


@dataclass(frozen=True)
class Sample:
    """One value of one series at one instant.

    Attributes:
        labels: The series labels, e.g. ``{"version": "canary"}``.
        value: The sample value.
        ts: Unix time of the sample, in seconds.
    """

    labels: dict[str, str] = field(default_factory=dict)
    value: float = 0.0
    ts: float = 0.0


@runtime_checkable
class MetricSource(Protocol):
    """Anything that answers PromQL instant queries."""

    def query(self, promql: str, *, at: float | None = None) -> list[Sample]:
        """Run an instant query.

        Args:
            promql: The PromQL expression.
            at: Unix time to evaluate at, in seconds; ``None`` means now.

        Returns:
            One sample per series in the result; empty when nothing matched.

        Raises:
            MetricSourceError: The backend refused the query or could not be reached.
        """
        ...

    def is_online(self) -> bool:
        """Return True when the backend answers queries right now."""
        ...
