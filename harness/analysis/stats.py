"""The two-sample tests of the canary judge, done by ``scipy.stats``.

* Latencies: the Mann-Whitney U test (``scipy.stats.mannwhitneyu``, method "auto"): the
  exact distribution for small samples without ties, else the normal approximation with
  tie and continuity corrections.
* Errors: Fisher's exact test of the 2x2 table of errors and successes
  (``scipy.stats.fisher_exact``, one-sided), exact at any size. It replaced a pooled
  two-proportion z-test, whose normal approximation is poor at the counts an analysis
  interval holds: one 5xx in 27 canary requests against none in 267 was "significant"
  (p 0.003) by the z-test and is not by the exact test (p 0.09).
* Error rate against the rollback threshold: the exact one-sided binomial test
  (``scipy.stats.binomtest``), valid at the handful of requests a 1 s window holds.

scipy is imported on first use: the engine's other commands do not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from harness.errors import CutoverError


class StatsError(CutoverError):
    """A test was asked of samples it cannot be computed on (empty, counts out of range)."""


@dataclass(frozen=True)
class UTest:
    """Result of a Mann-Whitney U test; unpacks as ``(u, p_two_sided)``.

    Attributes:
        u: U of the first sample: pairs (x from a, y from b) with x > y, ties counting 1/2.
        p_two_sided: Two-sided p-value.
        p_greater: One-sided p-value for "a is stochastically greater than b".
        n_a: Size of the first sample.
        n_b: Size of the second sample.
    """

    u: float
    p_two_sided: float
    p_greater: float
    n_a: int
    n_b: int

    def __iter__(self) -> Iterator[float]:
        return iter((self.u, self.p_two_sided))


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> UTest:
    """Mann-Whitney U test (Wilcoxon rank-sum) of two independent samples.

    Args:
        a: First sample.
        b: Second sample.

    Returns:
        U of ``a`` with two-sided and one-sided ("a greater") p-values. When every value
        is equal (no variance) both p-values are 1.

    Raises:
        StatsError: A sample is empty.
    """
    from scipy.stats import mannwhitneyu

    if not a or not b:
        raise StatsError(
            f"Mann-Whitney needs observations in both samples, got {len(a)} and {len(b)}"
        )
    two_sided = mannwhitneyu(a, b, alternative="two-sided")
    greater = mannwhitneyu(a, b, alternative="greater")
    return UTest(u=float(two_sided.statistic), p_two_sided=_p(two_sided.pvalue),
                 p_greater=_p(greater.pvalue), n_a=len(a), n_b=len(b))


def p_greater(a: Sequence[float], b: Sequence[float]) -> float:
    """One-sided Mann-Whitney p-value for "a is stochastically greater than b"."""
    return mann_whitney_u(a, b).p_greater


def errors_greater(x1: int, n1: int, x2: int, n2: int) -> float:
    """One-sided exact p-value that the error proportion x1/n1 (canary) is greater than
    x2/n2 (stable): Fisher's exact test of the table ``[[x1, n1-x1], [x2, n2-x2]]``.
    1 when neither or both samples are all errors (there is nothing to tell apart).

    Raises:
        StatsError: A sample has no trials, or events are outside [0, trials].
    """
    from scipy.stats import fisher_exact

    if n1 <= 0 or n2 <= 0:
        raise StatsError(f"the errors test needs requests in both samples, got n1={n1} n2={n2}")
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise StatsError(f"errors must be within [0, requests], got {x1}/{n1} and {x2}/{n2}")
    return _p(fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="greater").pvalue)


def rate_above(events: int, trials: int, rate: float) -> float:
    """One-sided exact p-value that the true proportion of ``events`` exceeds ``rate``:
    the binomial test of H0 "proportion <= rate" (``scipy.stats.binomtest``).

    Raises:
        StatsError: No trials, events outside [0, trials], or a rate outside (0, 1).
    """
    from scipy.stats import binomtest

    if trials <= 0 or not 0 <= events <= trials:
        raise StatsError(f"the rate test needs 0 <= events <= trials and trials > 0, "
                         f"got {events}/{trials}")
    if not 0 < rate < 1:
        raise StatsError(f"the rate tested against must be in (0, 1), got {rate}")
    return _p(binomtest(events, trials, rate, alternative="greater").pvalue)


def _p(value: float) -> float:
    """A p-value as a plain float in [0, 1] (scipy gives NaN where nothing differs)."""
    p = float(value)
    return 1.0 if p != p else min(1.0, max(0.0, p))
