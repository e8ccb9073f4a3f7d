"""Two-sample tests in pure Python: Mann-Whitney U and the two-proportion z-test.

Both use the large-sample normal approximation. It is accurate to a few parts in a
thousand once each sample has some tens of observations, which is what an analysis
interval yields; for tiny samples the result says so (``UTest.small_sample``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from harness.errors import CutoverError

SMALL_SAMPLE = 8  # below this many per sample the normal approximation is rough


class StatsError(CutoverError):
    """A test was asked of samples it cannot be computed on (empty, counts out of range)."""


def _upper_tail(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@dataclass(frozen=True)
class UTest:
    """Result of a Mann-Whitney U test; unpacks as ``(u, p_two_sided)``.

    Attributes:
        u: U of the first sample: pairs (x from a, y from b) with x > y, ties counting 1/2.
        p_two_sided: Two-sided p-value, normal approximation with tie and continuity
            corrections.
        p_greater: One-sided p-value for "a is stochastically greater than b".
        n_a: Size of the first sample.
        n_b: Size of the second sample.
    """

    u: float
    p_two_sided: float
    p_greater: float
    n_a: int
    n_b: int

    @property
    def small_sample(self) -> bool:
        """True when a sample is too small for the normal approximation to be trusted."""
        return min(self.n_a, self.n_b) < SMALL_SAMPLE

    def __iter__(self) -> Iterator[float]:
        return iter((self.u, self.p_two_sided))


def _average_ranks(values: Sequence[float]) -> tuple[list[float], float]:
    """Rank values 1..n, giving tied values the mean of their ranks.

    Returns:
        The ranks in input order, and the tie term sum(t^3 - t) over groups of t ties.
    """
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        size = end - start + 1
        ties += size**3 - size
        start = end + 1
    return ranks, ties


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> UTest:
    """Mann-Whitney U test (Wilcoxon rank-sum) of two independent samples.

    Uses average ranks for ties and the large-sample normal approximation: mean
    ``n_a*n_b/2``, variance ``n_a*n_b/12 * ((n+1) - sum(t^3-t)/(n(n-1)))``, with a
    continuity correction of 1/2. It is not the exact small-sample distribution; check
    ``small_sample`` before leaning on the p-value of a handful of observations.

    Args:
        a: First sample.
        b: Second sample.

    Returns:
        U of ``a`` with two-sided and one-sided ("a greater") p-values. When every value
        is equal (no variance) both p-values are 1.

    Raises:
        StatsError: A sample is empty.
    """
    n_a, n_b = len(a), len(b)
    if n_a == 0 or n_b == 0:
        raise StatsError(
            f"Mann-Whitney needs observations in both samples, got {n_a} and {n_b}"
        )
    ranks, ties = _average_ranks([*a, *b])
    u = sum(ranks[:n_a]) - n_a * (n_a + 1) / 2
    n = n_a + n_b
    mean = n_a * n_b / 2
    variance = n_a * n_b / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return UTest(u=u, p_two_sided=1.0, p_greater=1.0, n_a=n_a, n_b=n_b)
    sigma = math.sqrt(variance)
    z_two = max(0.0, abs(u - mean) - 0.5) / sigma
    z_greater = (u - mean - 0.5) / sigma
    return UTest(
        u=u,
        p_two_sided=min(1.0, 2 * _upper_tail(z_two)),
        p_greater=_upper_tail(z_greater),
        n_a=n_a,
        n_b=n_b,
    )


def p_greater(a: Sequence[float], b: Sequence[float]) -> float:
    """One-sided Mann-Whitney p-value for "a is stochastically greater than b".

    Small when values drawn from ``a`` tend to exceed values drawn from ``b``.
    See ``mann_whitney_u`` for the approximation and its limits.
    """
    return mann_whitney_u(a, b).p_greater


class ZTest(NamedTuple):
    """Result of a one-sided two-proportion z-test."""

    z: float
    p_one_sided: float


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> ZTest:
    """Test whether proportion x1/n1 (canary) is greater than x2/n2 (stable).

    Uses the pooled standard error ``sqrt(p(1-p)(1/n1 + 1/n2))`` with
    ``p = (x1+x2)/(n1+n2)`` and the normal approximation. When the pooled proportion
    is 0 or 1 (both samples all-success or all-failure) there is no difference to
    find: z is 0 and p is 1.

    Args:
        x1: Events (errors) in the first sample.
        n1: Trials (requests) in the first sample.
        x2: Events in the second sample.
        n2: Trials in the second sample.

    Returns:
        z and the one-sided p-value P(Z >= z).

    Raises:
        StatsError: A sample has no trials, or events are outside [0, trials].
    """
    if n1 <= 0 or n2 <= 0:
        raise StatsError(
            f"two-proportion test needs trials in both samples, got n1={n1} n2={n2}"
        )
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise StatsError(f"events must be within [0, trials], got {x1}/{n1} and {x2}/{n2}")
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return ZTest(z=0.0, p_one_sided=1.0)
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return ZTest(z=z, p_one_sided=_upper_tail(z))
