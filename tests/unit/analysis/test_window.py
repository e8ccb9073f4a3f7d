import pytest

from harness.analysis import Window, WindowError
from harness.errors import CutoverError


def test_from_outcomes_counts_requests_errors_and_all_latencies() -> None:
    window = Window.from_outcomes([(True, 10.0), (False, 250.0), (True, 12.0), (True, 11.0)])
    assert (window.requests, window.errors) == (4, 1)
    assert window.latencies_ms == [10.0, 250.0, 12.0, 11.0]
    assert window.error_rate_pct == 25.0


def test_from_no_outcomes_is_an_empty_window() -> None:
    window = Window.from_outcomes([])
    assert (window.requests, window.errors, window.latencies_ms) == (0, 0, [])


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        # 1..100 in shuffled order: nearest rank ceil(p*n/100) gives back p itself
        (95, 95.0),
        (99, 99.0),
        (50, 50.0),
        (7, 7.0),  # 0.07*100 is 7.000000000000001 in floats; rank must still be 7
        (100, 100.0),
        (0, 1.0),  # p=0 is the minimum
    ],
)
def test_nearest_rank_percentile_of_one_to_hundred(p: float, expected: float) -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert Window(requests=100, errors=0, latencies_ms=values).percentile(p) == expected


def test_percentile_is_always_an_observed_value() -> None:
    # n=4: p95 rank ceil(3.8)=4 -> 40; p50 rank 2 -> 20 (interpolation would give 25)
    window = Window(requests=4, errors=0, latencies_ms=[30.0, 10.0, 40.0, 20.0])
    assert window.percentile(95) == 40.0
    assert window.percentile(50) == 20.0
    assert window.percentile(25) == 10.0


def test_single_latency_is_every_percentile() -> None:
    window = Window(requests=1, errors=0, latencies_ms=[42.0])
    assert window.percentile(0) == window.percentile(99) == 42.0


@pytest.mark.parametrize("p", [-1, 100.5])
def test_percentile_out_of_range_is_refused(p: float) -> None:
    with pytest.raises(WindowError, match=r"\[0, 100\]"):
        Window(requests=1, errors=0, latencies_ms=[1.0]).percentile(p)


def test_statistics_of_an_empty_window_are_errors_not_zeros() -> None:
    empty = Window(requests=0, errors=0)
    with pytest.raises(WindowError, match="without requests"):
        _ = empty.error_rate_pct
    with pytest.raises(CutoverError, match="without latencies"):
        empty.percentile(95)


@pytest.mark.parametrize(("requests", "errors"), [(-1, 0), (5, 6), (5, -1)])
def test_inconsistent_counts_are_refused(requests: int, errors: int) -> None:
    with pytest.raises(WindowError, match="errors <= requests"):
        Window(requests=requests, errors=errors)
