from harness.analysis.metrics import Sample
from harness.analysis.prometheus import window_from_prometheus


class FakePrometheus:
    """Answers the three queries window_from_prometheus makes, by substring."""

    def __init__(self, requests, errors, buckets):
        self.requests, self.errors, self.buckets = requests, errors, buckets
        self.queries = []

    def query(self, promql, *, at=None):
        self.queries.append((promql, at))
        if "_bucket" in promql:
            return [Sample({"le": le}, v, at or 0) for le, v in self.buckets]
        if 'status=~"5.."' in promql:
            return [Sample({}, self.errors, at or 0)]
        return [Sample({}, self.requests, at or 0)]


def test_window_counts_requests_errors_and_bucketed_latencies():
    source = FakePrometheus(10.2, 2.0, [("0.05", 6.0), ("0.5", 9.0), ("+Inf", 10.0)])
    window = window_from_prometheus(source, "canary", start=100.0, end=130.0, metric="data_tier")
    assert (window.requests, window.errors) == (10, 2)
    assert window.latencies_ms == [50.0] * 6 + [500.0] * 3 + [500.0]
    assert all('version="canary"' in q for q, _ in source.queries)
    assert all("[30s]" in q and at == 130.0 for q, at in source.queries)


def test_no_traffic_is_an_empty_window():
    window = window_from_prometheus(FakePrometheus(0, 0, []), "canary", start=0, end=10,
                                    metric="svc")
    assert (window.requests, window.errors, window.latencies_ms) == (0, 0, [])
