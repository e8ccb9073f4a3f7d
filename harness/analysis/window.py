"""What one analysis interval observed for one version (stable or canary)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.errors import CutoverError


class WindowError(CutoverError):
    """A window is inconsistent, or a statistic was asked of a window without data."""


@dataclass(frozen=True)
class Window:
    """Requests, errors and latencies one version served during one analysis interval.

    Attributes:
        requests: Requests served.
        errors: Requests that failed; at most ``requests``.
        latencies_ms: Observed latencies in milliseconds. Usually one per request (as
            ``from_outcomes`` builds it), but a source may record a subset.
    """

    requests: int
    errors: int
    latencies_ms: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.requests < 0 or not 0 <= self.errors <= self.requests:
            raise WindowError(
                f"a window needs 0 <= errors <= requests, got errors={self.errors} "
                f"requests={self.requests}; count failed requests among all requests"
            )

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[tuple[bool, float]]) -> Window:
        """Build a window from raw per-request outcomes.

        Args:
            outcomes: ``(ok, latency_ms)`` per request; failed requests' latencies count too.

        Returns:
            The window those requests make up.
        """
        requests = errors = 0
        latencies: list[float] = []
        for ok, latency_ms in outcomes:
            requests += 1
            errors += 0 if ok else 1
            latencies.append(float(latency_ms))
        return cls(requests=requests, errors=errors, latencies_ms=latencies)

    @property
    def error_rate_pct(self) -> float:
        """Failed requests as a percentage of all requests.

        Raises:
            WindowError: The window has no requests; a rate of nothing is not 0 %.
        """
        if self.requests == 0:
            raise WindowError(
                "error rate of a window without requests is undefined; check requests first"
            )
        return 100.0 * self.errors / self.requests

    def percentile(self, p: float) -> float:
        """Return the p-th percentile of the latencies, by the nearest-rank method.

        Nearest rank: the smallest observed latency such that at least p % of all
        latencies are less than or equal to it, i.e. the ``ceil(p/100 * n)``-th smallest.
        The result is always an observed value, never an interpolation, which is how
        latency SLOs are usually stated ("95 % of requests took at most X ms").
        ``p = 0`` gives the minimum.

        Args:
            p: Percentile in [0, 100].

        Raises:
            WindowError: ``p`` is out of range or the window has no latencies.
        """
        if not 0 <= p <= 100:
            raise WindowError(f"percentile must be within [0, 100], got {p}")
        if not self.latencies_ms:
            raise WindowError(
                "percentile of a window without latencies is undefined; check latencies_ms first"
            )
        ordered = sorted(self.latencies_ms)
        rank = max(1, math.ceil(p * len(ordered) / 100))  # p*n first: exact for whole p
        return ordered[rank - 1]
