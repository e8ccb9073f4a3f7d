"""Stable (PostgreSQL) and canary (Iceberg) versions of the data tier behind HAProxy."""

import time

import httpx
import pytest

from fixtures.canary import CANARY, PATHS, STABLE, data_tier_target, seed_tables
from harness.analysis import PrometheusMetricSource, Verdict, judge
from harness.deploy.service import ServiceDeployer
from harness.events import EventLog
from harness.traffic import HaproxyRouter
from harness.traffic.load import LoadGenerator
from harness.wait import wait_until


@pytest.fixture
def versions(stack, namespace, postgres, iceberg, tmp_path):
    """The same aggregates in PostgreSQL and in Iceberg; both versions deployed."""
    identifier = seed_tables(postgres=postgres, iceberg=iceberg, namespace=namespace)
    target = data_tier_target(postgres=postgres, iceberg=iceberg, schema=namespace.schema,
                              identifier=identifier)
    haproxy, prometheus = stack.endpoint("haproxy"), stack.endpoint("prometheus")
    router = HaproxyRouter(haproxy.admin_socket, haproxy.backend)
    deployer = ServiceDeployer(target=target, router=router, run_dir=tmp_path,
                               events=EventLog(), targets_file=prometheus.targets_file)
    try:
        deployer.deploy("stable")
        router.set_weights({"stable": 100, "canary": 0})
        deployer.deploy("canary")
        yield deployer, router, haproxy, prometheus
    finally:
        router.set_weights({"stable": 100, "canary": 0})
        deployer.close()


def test_stable_and_canary_answer_the_same_before_traffic_moves(versions):
    deployer, router, _, _ = versions
    assert router.weights()["canary"] == 0
    with httpx.Client(timeout=10) as client:
        for path in PATHS:
            stable = client.get(deployer.slots["stable"].url + path)
            canary = client.get(deployer.slots["canary"].url + path)
            assert stable.status_code == canary.status_code == 200, path
            assert stable.json() == canary.json(), path
            assert canary.headers["X-Data-Tier-Version"] == CANARY


def test_weighted_load_reaches_each_version_and_prometheus_sees_it(versions):
    _deployer, router, haproxy, prometheus = versions
    router.set_weights({"stable": 70, "canary": 30})
    with LoadGenerator(haproxy.url, PATHS, rate_per_s=150, workers=4,
                       version_header="X-Data-Tier-Version") as load:
        wait_until(lambda: None if len(load.snapshot()) >= 450 else "sending",
                   timeout_s=60, what="450 requests through HAProxy")
    outcomes = load.snapshot()
    assert all(o.ok for o in outcomes), [o for o in outcomes if not o.ok][:3]
    share = sum(o.version == CANARY for o in outcomes) / len(outcomes)
    assert 0.30 - 0.07 <= share <= 0.30 + 0.07

    source = PrometheusMetricSource(prometheus.url)
    query = "sum by (version) (data_tier_requests_total{route!=\"/health\"})"

    def scraped():
        by_version = {s.labels.get("version"): s.value for s in source.query(query)}
        served = {v: sum(o.version == v for o in outcomes) for v in by_version}
        return None if served and all(by_version[v] >= served[v] for v in served) \
            and CANARY in by_version else f"{by_version} vs {served}"

    wait_until(scraped, timeout_s=30, what="Prometheus counting both versions' requests")


def test_errors_injected_in_the_canary_fail_its_analysis(versions):
    deployer, router, haproxy, _ = versions
    canary = deployer.slots["canary"].url
    httpx.put(canary + "/faults", json={"error_rate": 0.2}, timeout=5).raise_for_status()
    router.set_weights({"stable": 50, "canary": 50})
    started = time.time()
    with LoadGenerator(haproxy.url, PATHS, rate_per_s=200, workers=4,
                       version_header="X-Data-Tier-Version") as load:
        wait_until(lambda: None if len(load.snapshot()) >= 600 else "sending",
                   timeout_s=60, what="600 requests through HAProxy")
    verdict = judge(load.window(CANARY, since=started),
                    load.window(STABLE, since=started),
                    error_rate_fail_pct=5.0, error_rate_pass_pct=1.0,
                    latency_p95_ms_max=500, min_samples=50)
    assert verdict.verdict is Verdict.FAIL, verdict.reasons
    assert load.window(STABLE, since=started).errors == 0
