"""HAProxy splits traffic by runtime weights; Prometheus sees it."""

from collections import Counter

import httpx
import pytest

from harness.analysis import PrometheusMetricSource
from harness.traffic import HaproxyRouter, RouterError
from harness.wait import wait_until
from tests.integration.upstreams import version_server

REQUESTS = 1000


@pytest.fixture(scope="module")
def routed(stack):
    haproxy = stack.endpoint("haproxy")
    router = HaproxyRouter(haproxy.admin_socket, haproxy.backend)
    servers = {v: version_server(v) for v in ("stable", "canary")}
    for version, server in servers.items():
        router.set_address(version, "127.0.0.1", server.server_address[1])
    yield haproxy, router
    router.set_weights({"stable": 100, "canary": 0})
    for server in servers.values():
        server.shutdown()
        server.server_close()


def _send(url, count):
    seen, failed = Counter(), 0
    with httpx.Client(timeout=5) as client:
        for _ in range(count):
            response = client.get(url)
            if response.status_code == 200:
                seen[response.text] += 1
            else:
                failed += 1
    return seen, failed


@pytest.mark.parametrize("canary_pct", [10, 50, 0])
def test_observed_split_follows_runtime_weights(routed, canary_pct):
    haproxy, router = routed
    router.set_weights({"stable": 100 - canary_pct, "canary": canary_pct})
    assert router.weights() == {"stable": 100 - canary_pct, "canary": canary_pct}
    before = router.requests()
    seen, failed = _send(haproxy.url, REQUESTS)
    after = router.requests()
    assert failed == 0
    # Weighted random balancing: 5 % of 1000 is more than 3 standard deviations at 50 %.
    assert abs(seen["canary"] - REQUESTS * canary_pct / 100) <= REQUESTS * 0.05
    assert after["canary"] - before["canary"] == seen["canary"]  # HAProxy's own counters


def test_weights_must_be_percentages(routed):
    with pytest.raises(RouterError, match="summing to 100"):
        routed[1].set_weights({"stable": 80, "canary": 30})


def test_prometheus_scrapes_the_router(routed, stack):
    prometheus = PrometheusMetricSource(stack.endpoint("prometheus").url)
    assert prometheus.is_online()
    haproxy, router = routed
    router.set_weights({"stable": 90, "canary": 10})
    _send(haproxy.url, 200)
    # Sessions, the counter `requests()` reads: other tests of the session send through this
    # backend too, some with requests aborted before any response (which no response-code
    # counter holds), so only the same counter can be compared exactly.
    query = 'sum by (server) (haproxy_server_sessions_total{proxy="service"})'

    def scraped():
        counts = {s.labels["server"]: s.value for s in prometheus.query(query)}
        expected = router.requests()
        return None if counts == {k: float(v) for k, v in expected.items()} else str(counts)

    wait_until(scraped, timeout_s=30, what="Prometheus counts equal to HAProxy's")
