"""Turn what canary and stable observed into a verdict with its evidence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from harness.analysis.stats import errors_greater, mann_whitney_u, rate_above
from harness.analysis.window import Window
from harness.errors import ConfigError

Value = float | int | str


class Verdict(StrEnum):
    """Outcome of one analysis interval."""

    PASS = "pass"
    MARGINAL = "marginal"
    FAIL = "fail"
    NODATA = "nodata"


SLOWDOWN_FLOOR = 0.1  # of the latency max: smaller p95 slowdowns never hold a canary
# The analysis looks at a step again every interval, some 50 times a run. At 0.05 a
# look (the one-sided Wilson bound used before), one look in 200 of a canary erring at
# 3 % failed it: about one run in five was rolled back. 0.001 a look keeps the whole
# run near 0.05 (Bonferroni), and an all-errors canary still fails on 5 requests.
FAIL_ALPHA = 0.001
_SEVERITY = {Verdict.PASS: 0, Verdict.MARGINAL: 1, Verdict.FAIL: 2}


@dataclass(frozen=True)
class Judgement:
    """A verdict, the sentences that explain it and the numbers behind them.

    Attributes:
        verdict: The outcome.
        reasons: One sentence per finding, worst first, each with its numbers.
        values: Every number the verdict rests on: counts, rates, percentiles,
            p-values and the thresholds used ("n/a" where a value could not be computed).
    """

    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    values: dict[str, Value] = field(default_factory=dict)

    @property
    def promotes(self) -> bool:
        """True only for PASS; NODATA means "not yet", never "go"."""
        return self.verdict is Verdict.PASS


@dataclass(frozen=True)
class _Limits:
    error_rate_fail_pct: float
    error_rate_pass_pct: float
    latency_p95_ms_max: float
    min_samples: int
    alpha: float
    latency_margin: float
    fail_alpha: float

    def check(self) -> None:
        if not 0 < self.error_rate_pass_pct <= self.error_rate_fail_pct:
            raise ConfigError(
                f"need 0 < error_rate_pass_pct <= error_rate_fail_pct, got "
                f"{self.error_rate_pass_pct} and {self.error_rate_fail_pct}; "
                "the promotion threshold must not exceed the rollback threshold"
            )
        if self.min_samples < 1 or not 0 < self.alpha < 1 or self.latency_margin < 1:
            raise ConfigError(
                f"need min_samples >= 1, 0 < alpha < 1 and latency_margin >= 1, got "
                f"{self.min_samples}, {self.alpha} and {self.latency_margin}"
            )
        if not 0 < self.fail_alpha < 1 or self.error_rate_fail_pct >= 100:
            raise ConfigError(
                f"need 0 < fail_alpha < 1 and error_rate_fail_pct < 100, got "
                f"{self.fail_alpha} and {self.error_rate_fail_pct}"
            )


_Finding = tuple[Verdict, str]


def _num(x: float) -> str:
    """Format a number for a sentence: 7.2, 5, 0.35, 1234."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def judge(
    canary: Window,
    stable: Window,
    *,
    error_rate_fail_pct: float,
    error_rate_pass_pct: float,
    latency_p95_ms_max: float,
    min_samples: int,
    alpha: float = 0.05,
    latency_margin: float = 1.2,
    fail_alpha: float = FAIL_ALPHA,
) -> Judgement:
    """Judge one analysis interval of a canary against the stable version.

    Rules, in order:

    * NODATA when the canary served fewer than ``min_samples`` requests or has fewer
      than ``min_samples`` latencies. NODATA never promotes; treat it as "not yet".
    * Stable is used for comparison only when it has ``min_samples`` requests (error
      test) or latencies (latency test). Comparison can only turn a breached latency
      threshold into FAIL or flag a relative slowdown; a canary meeting every absolute threshold
      passes even when stable has no data, and a reason says no comparison was made.
    * Errors: FAIL when the canary error rate > ``error_rate_fail_pct`` and the exact
      one-sided binomial test says the true rate is above it with p < ``fail_alpha``
      (MARGINAL when only the point estimate is). The bar is high because every
      interval is a new look at the same step: at the 95 % a single look would use,
      a canary erring at 3 % was rolled back by a 2-in-10 window. At or above
      ``error_rate_pass_pct`` (promotion needs strictly below) and not over the
      rollback threshold: MARGINAL, with the one-sided exact test (Fisher) against
      stable in the reason (the runbook withholds promotion there; it does not roll
      back).
    * Latency (nearest-rank p95): when canary p95 > ``latency_p95_ms_max``, FAIL if a
      one-sided Mann-Whitney test says canary latencies are greater than stable's
      with p < ``alpha``, MARGINAL otherwise. Under the max, MARGINAL when canary p95
      exceeds ``latency_margin`` times stable p95, by more than 10 % of the max, and
      the test is significant.
    * PASS otherwise. The verdict is the worst finding; reasons list them worst first.

    Raises:
        ConfigError: The thresholds contradict each other or are out of range.
    """
    limits = _Limits(error_rate_fail_pct, error_rate_pass_pct, latency_p95_ms_max,
                     min_samples, alpha, latency_margin, fail_alpha)
    limits.check()
    values: dict[str, Value] = {**vars(limits)}
    values.update(_window_values("canary", canary))
    values.update(_window_values("stable", stable))
    if min(canary.requests, len(canary.latencies_ms)) < min_samples:
        reason = (f"canary served {canary.requests} requests with "
                  f"{len(canary.latencies_ms)} latencies; the judge needs at least "
                  f"{min_samples} of each, so there is no verdict yet")
        return Judgement(Verdict.NODATA, [reason], values)
    findings = _error_findings(canary, stable, limits, values)
    findings += _latency_findings(canary, stable, limits, values)
    findings.sort(key=lambda finding: -_SEVERITY[finding[0]])
    return Judgement(findings[0][0], [reason for _, reason in findings], values)


def _window_values(name: str, window: Window) -> dict[str, Value]:
    """Counts, error rate and tail latencies of one window ("n/a" when undefined)."""
    values: dict[str, Value] = {
        f"{name}_requests": window.requests,
        f"{name}_errors": window.errors,
        f"{name}_latency_samples": len(window.latencies_ms),
        f"{name}_error_rate_pct": window.error_rate_pct if window.requests else "n/a",
    }
    for p in (95, 99):
        values[f"{name}_p{p}_ms"] = window.percentile(p) if window.latencies_ms else "n/a"
    return values


def _error_findings(canary: Window, stable: Window, limits: _Limits,
                    values: dict[str, Value]) -> list[_Finding]:
    """Findings about the error rate; records the exact test in ``values``."""
    rate = canary.error_rate_pct
    comparable = stable.requests >= limits.min_samples
    values["error_p_value"] = "n/a"
    if comparable:
        values["error_p_value"] = errors_greater(canary.errors, canary.requests,
                                                 stable.errors, stable.requests)
    if rate > limits.error_rate_fail_pct:
        fail_pct = limits.error_rate_fail_pct
        p_above = rate_above(canary.errors, canary.requests, fail_pct / 100)
        values["error_fail_p_value"] = p_above
        values["canary_error_rate_low_pct"] = 100 * wilson_lower_bound(
            canary.errors, canary.requests)
        test = f"exact one-sided p={p_above:.2g} that it is at most {_num(fail_pct)} %"
        if p_above < limits.fail_alpha:
            return [(Verdict.FAIL, f"canary error rate {_num(rate)} % > rollback threshold "
                                   f"{_num(fail_pct)} % ({test}, < {limits.fail_alpha:g})")]
        return [(Verdict.MARGINAL, f"canary error rate {_num(rate)} % > rollback threshold "
                                   f"{_num(fail_pct)} %, but {canary.errors} errors in "
                                   f"{canary.requests} requests do not show it yet ({test}, "
                                   f">= {limits.fail_alpha:g}): not yet a rollback")]
    if rate < limits.error_rate_pass_pct:
        return [(Verdict.PASS, f"canary error rate {_num(rate)} % < promotion threshold "
                               f"{_num(limits.error_rate_pass_pct)} %")]
    low = 100 * wilson_lower_bound(canary.errors, canary.requests)
    if low < limits.error_rate_pass_pct and canary.errors <= 2:
        # two 5xx in 200 requests (1 %) from a service with 0.3 % noise: the promotion
        # threshold cannot be said to be crossed, so the step is not held for it
        return [(Verdict.PASS, f"canary error rate {_num(rate)} % is at the promotion "
                               f"threshold {_num(limits.error_rate_pass_pct)} % by "
                               f"{canary.errors} errors only (it may be as low as "
                               f"{_num(low)} % at 95 % confidence)")]
    breach = (f"canary error rate {_num(rate)} % >= promotion threshold "
              f"{_num(limits.error_rate_pass_pct)} %")
    if not comparable:
        return [(Verdict.MARGINAL, f"{breach}, and stable served only {stable.requests} "
                                   f"requests (< {limits.min_samples}), too few to compare")]
    stable_rate, p = _num(stable.error_rate_pct), float(values["error_p_value"])
    if p < limits.alpha:
        # Not FAIL: between the thresholds the runbook withholds promotion, it does not
        # roll back. Judged every interval, a 5 % test fires on healthy noise (one 5xx in
        # 27 requests): 6 of 20 healthy canaries were rolled back by it in the accuracy
        # bench. A canary that stays here is inconclusive and the policy decides.
        return [(Verdict.MARGINAL, f"{breach} and significantly above stable's "
                                   f"{stable_rate} % (Fisher one-sided p={p:.3g} < alpha "
                                   f"{limits.alpha}); promotion withheld, below the "
                                   f"rollback threshold {_num(limits.error_rate_fail_pct)} %")]
    return [(Verdict.MARGINAL, f"{breach} but not significantly above stable's "
                               f"{stable_rate} % (Fisher one-sided p={p:.3g} >= alpha "
                               f"{limits.alpha})")]


def _latency_findings(canary: Window, stable: Window, limits: _Limits,
                      values: dict[str, Value]) -> list[_Finding]:
    """Findings about p95 latency; records the Mann-Whitney test in ``values``."""
    p95, cap = canary.percentile(95), _num(limits.latency_p95_ms_max)
    values["latency_u"] = values["latency_p_value"] = "n/a"
    if len(stable.latencies_ms) < limits.min_samples:
        note = (f"stable has only {len(stable.latencies_ms)} latencies "
                f"(< {limits.min_samples}), too few to compare")
        if p95 > limits.latency_p95_ms_max:
            return [(Verdict.MARGINAL, f"canary p95 latency {_num(p95)} ms > max {cap} ms, "
                                       f"but {note}")]
        return [(Verdict.PASS, f"canary p95 latency {_num(p95)} ms <= max {cap} ms"),
                (Verdict.PASS, f"{note}; no relative comparison was made")]
    result = mann_whitney_u(canary.latencies_ms, stable.latencies_ms)
    values["latency_u"], values["latency_p_value"] = result.u, result.p_greater
    greater, p = result.p_greater < limits.alpha, result.p_greater
    stable_p95 = stable.percentile(95)
    vs = f"stable p95 {_num(stable_p95)} ms, one-sided Mann-Whitney p={p:.3g}"
    if p95 > limits.latency_p95_ms_max:
        if greater:
            return [(Verdict.FAIL, f"canary p95 latency {_num(p95)} ms > max {cap} ms and "
                                   f"canary latencies are significantly greater ({vs})")]
        return [(Verdict.MARGINAL, f"canary p95 latency {_num(p95)} ms > max {cap} ms but "
                                   f"not significantly greater than stable ({vs})")]
    # a slowdown also has to matter against the budget: 3 ms against 2 ms is "1.5x",
    # and over a whole step's requests "significant", but not worth holding a canary
    floor_ms = SLOWDOWN_FLOOR * limits.latency_p95_ms_max
    if greater and p95 > limits.latency_margin * stable_p95 and p95 - stable_p95 > floor_ms:
        return [(Verdict.MARGINAL, f"canary p95 latency {_num(p95)} ms is more than "
                                   f"{_num(limits.latency_margin)}x stable's, significantly "
                                   f"({vs}), though under max {cap} ms")]
    return [(Verdict.PASS, f"canary p95 latency {_num(p95)} ms <= max {cap} ms with no "
                           f"significant slowdown beyond {_num(limits.latency_margin)}x "
                           f"stable ({vs})")]


def wilson_lower_bound(errors: int, requests: int, *, z: float = 1.645) -> float:
    """One-sided 95 % lower confidence bound of an error proportion (Wilson score).

    A rollback on the error threshold needs the rate to be above it *with confidence*:
    two 5xx in 30 requests (6.7 %) are what a healthy service with rare errors shows
    now and then, and rolled back healthy canaries are the runbook's named risk.
    """
    if requests <= 0:
        return 0.0
    p = errors / requests
    centre = p + z * z / (2 * requests)
    margin = z * math.sqrt(p * (1 - p) / requests + z * z / (4 * requests * requests))
    return max(0.0, (centre - margin) / (1 + z * z / requests))
