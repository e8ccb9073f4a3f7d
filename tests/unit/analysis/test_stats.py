import random

import pytest

from harness.analysis import StatsError, errors_greater, mann_whitney_u, p_greater


def test_fully_separated_tiny_samples_by_hand_exactly() -> None:
    # a=[1,2,3] b=[4,5,6]: ranks of a 1,2,3 -> R=6, U = 6 - 3*4/2 = 0. Exact: of the
    # C(6,3) = 20 equally likely rank sets, U=0 and U=9 are the two as extreme: p = 0.1
    # (the normal approximation said 0.081)
    result = mann_whitney_u([1, 2, 3], [4, 5, 6])
    assert result.u == 0.0
    assert result.p_two_sided == pytest.approx(0.1)
    assert result.p_greater == pytest.approx(1.0)
    assert mann_whitney_u([4, 5, 6], [1, 2, 3]).p_greater == pytest.approx(0.05)


def test_ties_get_average_ranks_and_shrink_the_variance() -> None:
    # combined 1a 2a 2a 2b 3b 4b: the three 2s share ranks 2,3,4 -> 3 each.
    # R_a = 1+3+3 = 7, U = 7 - 6 = 1 (pairs: each a=2 ties b=2, counting 1/2 twice).
    # tie term 3^3-3 = 24; var = 9/12 * (7 - 24/(6*5)) = 4.65
    # z = (3.5 - 0.5)/sqrt(4.65) = 1.39122; p = erfc(z/sqrt 2) = 0.164160
    result = mann_whitney_u([1, 2, 2], [2, 3, 4])
    assert result.u == 1.0
    assert result.p_two_sided == pytest.approx(0.164160, abs=1e-6)


def test_overlapping_ranges_by_hand() -> None:
    # a=0..19, b=10..29: a=x>=10 beats x-10 of b and ties one -> U = sum(k+0.5, k<10) = 50.
    # mean 200; ten tie pairs -> tie term 60; var = 400/12 * (41 - 60/1560) = 1365.385
    # z = (150 - 0.5)/36.9511 = 4.04588; two-sided p = 5.2125e-5
    result = mann_whitney_u(list(range(20)), list(range(10, 30)))
    assert result.u == 50.0
    assert result.p_two_sided == pytest.approx(5.2125e-5, rel=1e-3)


def test_unpacks_as_u_and_two_sided_p() -> None:
    u, p = mann_whitney_u([1, 2, 3], [4, 5, 6])
    assert u == 0.0
    assert p == pytest.approx(0.1)


def test_identical_samples_give_p_one() -> None:
    rng = random.Random(7)
    sample = [rng.gauss(100, 20) for _ in range(50)]
    result = mann_whitney_u(sample, list(sample))
    assert result.u == 50 * 50 / 2
    assert result.p_two_sided == 1.0
    assert result.p_greater > 0.45


def test_all_values_equal_has_no_variance_and_p_one() -> None:
    result = mann_whitney_u([5.0] * 10, [5.0] * 12)
    assert (result.u, result.p_two_sided, result.p_greater) == (60.0, 1.0, 1.0)


def test_fully_separated_large_samples_give_tiny_p() -> None:
    low, high = [float(v) for v in range(40)], [float(v) for v in range(100, 140)]
    assert mann_whitney_u(low, high).p_two_sided < 1e-12
    assert p_greater(high, low) < 1e-12
    assert p_greater(low, high) == pytest.approx(1.0)


def test_symmetry() -> None:
    rng = random.Random(11)
    a = [rng.gauss(100, 20) for _ in range(30)]
    b = [rng.gauss(110, 20) for _ in range(40)]
    ab, ba = mann_whitney_u(a, b), mann_whitney_u(b, a)
    assert ab.u + ba.u == 30 * 40
    assert ab.p_two_sided == pytest.approx(ba.p_two_sided)
    # one-sided p-values of opposite directions sum to 1 plus the continuity correction
    assert min(ab.p_greater, ba.p_greater) == pytest.approx(ab.p_two_sided / 2)


def test_empty_sample_is_an_error() -> None:
    with pytest.raises(StatsError, match="both samples"):
        mann_whitney_u([], [1.0])


def test_one_error_in_27_against_none_in_267_is_not_significant_by_hand() -> None:
    # one error among 294 requests: the chance it falls among the canary's 27 is 27/294
    assert errors_greater(1, 27, 0, 267) == pytest.approx(27 / 294)


def test_errors_test_is_one_sided() -> None:
    worse, better = errors_greater(10, 100, 5, 100), errors_greater(5, 100, 10, 100)
    assert worse == pytest.approx(0.141382, abs=1e-6)
    assert better > 0.9
    assert errors_greater(30, 1000, 10, 1000) == pytest.approx(0.001004, abs=1e-6)


@pytest.mark.parametrize(("x1", "x2"), [(0, 0), (100, 50)])
def test_nothing_to_tell_apart_gives_p_one(x1: int, x2: int) -> None:
    assert errors_greater(x1, 100, x2, 50) == 1.0


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(0, 0, 1, 10), (1, 10, 0, 0), (11, 10, 0, 5)])
def test_no_requests_or_impossible_counts_are_errors(x1: int, n1: int, x2: int, n2: int) -> None:
    with pytest.raises(StatsError):
        errors_greater(x1, n1, x2, n2)
