import pytest

from harness.analysis import MetricSource, MetricSourceError, Sample
from harness.errors import CutoverError
from harness.fakes import FakeMetricSource

QUERY = 'sum(rate(requests_total{version="canary"}[1m]))'


def test_fake_satisfies_the_protocol() -> None:
    source: MetricSource = FakeMetricSource({QUERY: [Sample({"version": "canary"}, 12.5, 100.0)]})
    assert isinstance(source, MetricSource)
    assert source.is_online()
    [sample] = source.query(QUERY, at=100.0)
    assert (sample.labels, sample.value, sample.ts) == ({"version": "canary"}, 12.5, 100.0)


def test_fake_records_queries_and_fails_like_a_source() -> None:
    fake = FakeMetricSource({QUERY: []})
    assert fake.query(QUERY) == []
    assert fake.asked == [(QUERY, None)]
    with pytest.raises(MetricSourceError, match="no answer"):
        fake.query("up")
    fake.online = False
    assert not fake.is_online()
    with pytest.raises(CutoverError, match="offline"):
        fake.query(QUERY)


def test_an_object_without_is_online_is_not_a_metric_source() -> None:
    class QueryOnly:
        def query(self, promql: str, *, at: float | None = None) -> list[Sample]:
            return []

    assert not isinstance(QueryOnly(), MetricSource)
