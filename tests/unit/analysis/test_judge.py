import random

import pytest

from harness.analysis import Judgement, Verdict, Window, judge
from harness.errors import ConfigError

LIMITS = {
    "error_rate_fail_pct": 5.0,
    "error_rate_pass_pct": 1.0,
    "latency_p95_ms_max": 300.0,
    "min_samples": 100,
}


def window(seed: int, *, n: int = 1000, error_rate: float = 0.002, mean_ms: float = 100.0,
           sd_ms: float = 20.0) -> Window:
    """n requests, each failing with error_rate, latencies normal(mean_ms, sd_ms) >= 1 ms."""
    rng = random.Random(seed)
    return Window.from_outcomes(
        (rng.random() >= error_rate, max(1.0, rng.gauss(mean_ms, sd_ms))) for _ in range(n)
    )


def run(canary: Window, stable: Window, **overrides: float) -> Judgement:
    return judge(canary, stable, **{**LIMITS, **overrides})  # type: ignore[arg-type]


STABLE = window(1)


def test_healthy_canary_passes_with_its_evidence() -> None:
    result = run(window(2), STABLE)
    assert result.verdict is Verdict.PASS and result.promotes
    assert any("< promotion threshold 1 %" in reason for reason in result.reasons)
    for key in ("canary_error_rate_pct", "stable_error_rate_pct", "canary_p95_ms",
                "canary_p99_ms", "stable_p95_ms", "stable_p99_ms", "error_p_value",
                "latency_p_value", "canary_requests", "stable_requests", "alpha",
                "latency_p95_ms_max", "min_samples"):
        assert key in result.values
    assert isinstance(result.values["latency_p_value"], float)


def test_ten_percent_errors_fail_on_the_absolute_threshold() -> None:
    result = run(window(3, error_rate=0.10), STABLE)
    assert result.verdict is Verdict.FAIL and not result.promotes
    assert "> rollback threshold 5 %" in result.reasons[0]
    assert 8.0 < float(result.values["canary_error_rate_pct"]) < 12.0


def test_latency_shifted_by_300_ms_fails() -> None:
    result = run(window(4, mean_ms=400.0), STABLE)
    assert result.verdict is Verdict.FAIL
    assert "> max 300 ms" in result.reasons[0] and "significantly greater" in result.reasons[0]
    assert float(result.values["latency_p_value"]) < 1e-12


def test_mild_latency_shift_under_the_max_is_marginal() -> None:
    result = run(window(5, mean_ms=150.0), STABLE)
    assert result.verdict is Verdict.MARGINAL
    assert "1.2x stable's" in result.reasons[0] and "under max 300 ms" in result.reasons[0]
    assert float(result.values["canary_p95_ms"]) < 300.0


def test_small_latency_shift_within_the_margin_passes() -> None:
    assert run(window(6, mean_ms=105.0), STABLE).verdict is Verdict.PASS


def test_zero_traffic_is_nodata_and_never_promotes() -> None:
    result = run(Window(requests=0, errors=0), STABLE)
    assert result.verdict is Verdict.NODATA and not result.promotes
    assert "0 requests" in result.reasons[0]
    assert result.values["canary_error_rate_pct"] == "n/a"


def test_sparse_canary_below_min_samples_is_nodata_even_when_all_fail() -> None:
    result = run(window(7, n=20, error_rate=1.0), STABLE)
    assert result.verdict is Verdict.NODATA
    assert "at least 100" in result.reasons[0]


def test_requests_without_latencies_are_nodata() -> None:
    assert run(Window(requests=500, errors=0), STABLE).verdict is Verdict.NODATA


def test_empty_stable_with_healthy_canary_passes_and_says_no_comparison() -> None:
    result = run(window(8), Window(requests=0, errors=0))
    assert result.verdict is Verdict.PASS
    assert any("no relative comparison" in reason for reason in result.reasons)
    assert result.values["error_p_value"] == result.values["latency_p_value"] == "n/a"


def test_error_rate_between_thresholds_and_worse_than_stable_withholds_promotion() -> None:
    result = run(window(9, n=2000, error_rate=0.03), window(10, n=2000))
    assert result.verdict is Verdict.MARGINAL, "the runbook rolls back above 5 % only"
    assert "promotion withheld" in result.reasons[0]
    assert "significantly above stable" in result.reasons[0]
    assert float(result.values["error_p_value"]) < 0.05


def test_error_rate_between_thresholds_like_stable_is_marginal() -> None:
    result = run(window(11, n=2000, error_rate=0.03), window(12, n=2000, error_rate=0.03))
    assert result.verdict is Verdict.MARGINAL
    assert "not significantly above stable" in result.reasons[0]


def test_error_rate_between_thresholds_without_stable_is_marginal() -> None:
    result = run(window(13, n=2000, error_rate=0.03), Window(requests=0, errors=0))
    assert result.verdict is Verdict.MARGINAL
    assert "too few to compare" in result.reasons[0]


def test_slow_canary_as_slow_as_stable_is_marginal_not_fail() -> None:
    result = run(window(14, mean_ms=400.0), window(15, mean_ms=400.0))
    assert result.verdict is Verdict.MARGINAL
    assert "not significantly greater" in result.reasons[0]


def test_slow_canary_without_stable_latencies_is_marginal() -> None:
    result = run(window(16, mean_ms=400.0), Window(requests=1000, errors=0))
    assert result.verdict is Verdict.MARGINAL


def test_worst_finding_wins_and_reasons_are_worst_first() -> None:
    result = run(window(17, error_rate=0.10, mean_ms=400.0), STABLE)
    assert result.verdict is Verdict.FAIL
    assert len(result.reasons) == 2 and all("canary" in reason for reason in result.reasons)


def test_reason_numbers_are_readable() -> None:
    canary = Window(requests=1000, errors=82, latencies_ms=[100.0] * 1000)
    assert run(canary, STABLE).reasons[0].startswith(
        "canary error rate 8.2 % > rollback threshold 5 % (exact one-sided p=1.2e-05 "
        "that it is at most 5 %, < 0.001)")


def test_two_errors_in_ten_requests_are_not_yet_a_rollback() -> None:
    # what a canary erring at 3 % shows one window in thirty: the Wilson 95 % bound
    # (6.6 %) said FAIL and rolled it back
    result = run(Window(requests=10, errors=2, latencies_ms=[100.0] * 10), STABLE,
                 min_samples=5)
    assert result.verdict is Verdict.MARGINAL, result.reasons
    assert "2 errors in 10 requests do not show it yet" in result.reasons[0]
    assert 0.05 < float(result.values["error_fail_p_value"]) < 0.1


def test_a_canary_answering_only_errors_fails_on_its_first_five_requests() -> None:
    result = run(Window(requests=5, errors=5, latencies_ms=[100.0] * 5), STABLE,
                 min_samples=5)
    assert result.verdict is Verdict.FAIL, result.reasons


def test_a_canary_erring_at_three_percent_is_not_rolled_back_in_a_thousand_looks() -> None:
    draws = random.Random(3)
    fails = 0
    for _ in range(1000):
        n = draws.choice((5, 10, 20, 40, 80, 160))
        errors = sum(draws.random() < 0.03 for _ in range(n))
        window_ = Window(requests=n, errors=errors, latencies_ms=[100.0] * n)
        fails += run(window_, STABLE, min_samples=5).verdict is Verdict.FAIL
    assert fails <= 2, f"{fails} of 1000 looks rolled back a canary erring at 3 %"


def test_fail_alpha_out_of_range_is_refused() -> None:
    with pytest.raises(ConfigError, match="fail_alpha"):
        run(window(2), STABLE, fail_alpha=0.0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"error_rate_pass_pct": 6.0},
        {"error_rate_pass_pct": 0.0},
        {"min_samples": 0},
        {"alpha": 1.5},
        {"latency_margin": 0.9},
    ],
)
def test_contradictory_limits_are_config_errors(overrides: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="need"):
        run(window(18), STABLE, **overrides)


def test_a_rollback_on_errors_needs_confidence_not_two_unlucky_requests() -> None:
    noisy = Window(requests=30, errors=2, latencies_ms=[100.0] * 30)  # 6.7 %, by chance
    verdict = run(noisy, STABLE, min_samples=10)
    assert verdict.verdict is Verdict.MARGINAL, verdict.reasons
    assert "do not show it yet" in verdict.reasons[0]
    broken = Window(requests=32, errors=10, latencies_ms=[100.0] * 32)  # a 30 % fault
    assert run(broken, STABLE, min_samples=10).verdict is Verdict.FAIL


def test_two_errors_at_the_promotion_threshold_do_not_withhold_promotion() -> None:
    at_threshold = Window(requests=200, errors=2, latencies_ms=[100.0] * 200)  # 1 %
    verdict = run(at_threshold, STABLE)
    assert verdict.verdict is Verdict.PASS, verdict.reasons
    assert "by 2 errors only" in verdict.reasons[0]
    assert run(Window(requests=300, errors=6, latencies_ms=[100.0] * 300),
               STABLE).verdict is Verdict.MARGINAL


def test_a_slowdown_too_small_for_the_budget_does_not_hold_the_canary() -> None:
    fast = window(13, mean_ms=3.0, sd_ms=0.5)
    faster = window(14, mean_ms=2.0, sd_ms=0.5)
    result = run(fast, faster)
    assert result.verdict is Verdict.PASS, result.reasons  # 1.5x, but 1 ms of 300 ms
    assert float(result.values["latency_p_value"]) < 0.05
