"""The reference data tier, in process: routes, metrics, faults, CLI and result shaping."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pyiceberg.catalog.sql import SqlCatalog
from starlette.exceptions import StarletteDeprecationWarning

from fixtures.services.data_tier import (
    LATENCY_BUCKETS_S,
    VERSION_HEADER,
    FaultSwitches,
    IcebergRepository,
    PostgresRepository,
    TickerSentiment,
    create_app,
)
from fixtures.services.data_tier.__main__ import build_repository, is_loopback, main, parse_args
from fixtures.services.data_tier.repository import (
    check_columns,
    shape,
    ticker_from_arrow,
    top_from_arrow,
)
from harness.fakes import FakeClock
from harness.stack.endpoint import IcebergEndpoint
from harness.strategy.serving import ServingMap
from harness.wait import wait_until
from tests.unit.services.fakes import FakeRepository, FakeSleep

with warnings.catch_warnings():
    # Starlette 1.10 prefers httpx2 for its TestClient; the project pins httpx, which it
    # still supports, and filterwarnings=error would otherwise fail collection.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROWS = [TickerSentiment("AAA", 3, 0.25), TickerSentiment("BBB", 5, 0.75),
        TickerSentiment("CCC", 1, -0.5)]
SENTIMENT, TOP = "/tickers/{ticker}/sentiment", "/tickers/top"


def client_for(repository: FakeRepository | None = None, *, faults: FaultSwitches | None = None,
               sleep: FakeSleep | None = None) -> TestClient:
    app = create_app(version="canary", repository=repository or FakeRepository(ROWS),
                     faults=faults, sleep=sleep or FakeSleep())
    return TestClient(app)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with client_for() as c:
        yield c


def sample(client: TestClient, name: str, **labels: str) -> float | None:
    """The value of one sample on /metrics, or None if absent."""
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


def requests(client: TestClient, route: str, status: int) -> float:
    return sample(client, "data_tier_requests_total", version="canary", route=route,
                  status=str(status)) or 0.0


def operations(client: TestClient, outcome: str) -> float | None:
    return sample(client, "data_tier_repository_operations_total", version="canary",
                  repository="fake", outcome=outcome)


# --- routes -----------------------------------------------------------------------------

def test_health_names_version_and_every_response_carries_the_header(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"version": "canary", "status": "ok"}
    for path in ("/health", "/tickers/AAA/sentiment", "/tickers/ZZZ/sentiment", "/metrics",
                 "/faults", "/no/such/route", "/tickers/top?limit=0"):
        assert client.get(path).headers[VERSION_HEADER] == "canary", path


def test_ticker_sentiment_answers_known_and_404s_unknown(client: TestClient) -> None:
    response = client.get("/tickers/BBB/sentiment")
    assert response.status_code == 200
    assert response.json() == {"ticker": "BBB", "score_count": 5, "avg_score": 0.75}
    missing = client.get("/tickers/ZZZ/sentiment")
    assert missing.status_code == 404
    assert "ZZZ" in missing.json()["error"]


def test_top_tickers_ranks_and_limits(client: TestClient) -> None:
    body = client.get("/tickers/top", params={"limit": 2}).json()
    assert body["limit"] == 2
    assert [row["ticker"] for row in body["tickers"]] == ["BBB", "AAA"]
    assert len(client.get("/tickers/top").json()["tickers"]) == 3  # default limit 10
    assert client.get("/tickers/top", params={"limit": 0}).status_code == 422
    assert client.get("/tickers/top", params={"limit": "x"}).status_code == 422


def test_repository_exception_is_a_500_and_an_error_outcome() -> None:
    with client_for(FakeRepository(ROWS, broken=True)) as c:
        response = c.get("/tickers/AAA/sentiment")
        assert response.status_code == 500
        assert "broken" in response.json()["error"]
        assert c.get("/health").status_code == 503
        assert operations(c, "error") == 2
        assert operations(c, "ok") == 0


# --- metrics ----------------------------------------------------------------------------

def test_metrics_are_labelled_by_version_route_and_status(client: TestClient) -> None:
    client.get("/tickers/AAA/sentiment")
    client.get("/tickers/ZZZ/sentiment")
    client.get("/tickers/top")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert requests(client, SENTIMENT, 200) == 1
    assert requests(client, SENTIMENT, 404) == 1
    assert requests(client, TOP, 200) == 1
    assert sample(client, "data_tier_requests_total", route="/metrics") is None
    assert sample(client, "data_tier_info", version="canary", repository="fake") == 1
    assert operations(client, "ok") == 3  # a 404 is a successful repository call
    assert sample(client, "data_tier_request_duration_seconds_count", version="canary",
                  route=SENTIMENT) == 2
    assert sample(client, "data_tier_request_duration_seconds_bucket", route=TOP,
                  le="0.5") == 1


def test_latency_buckets_span_5ms_to_2s_with_the_policy_threshold() -> None:
    assert LATENCY_BUCKETS_S[0] == 0.005 and LATENCY_BUCKETS_S[-1] == 2.0
    assert 0.5 in LATENCY_BUCKETS_S
    assert list(LATENCY_BUCKETS_S) == sorted(LATENCY_BUCKETS_S)


def test_each_app_has_its_own_registry() -> None:
    with client_for() as first, client_for() as second:
        first.get("/tickers/AAA/sentiment")
        assert requests(first, SENTIMENT, 200) == 1
        assert requests(second, SENTIMENT, 200) == 0


def test_unmatched_paths_share_one_route_label(client: TestClient) -> None:
    client.get("/a")
    client.get("/b")
    assert requests(client, "unmatched", 404) == 2


# --- faults over HTTP -------------------------------------------------------------------

def test_error_rate_one_answers_500_but_is_not_a_repository_error(client: TestClient) -> None:
    assert client.put("/faults", json={"error_rate": 1}).json()["error_rate"] == 1.0
    for _ in range(3):
        response = client.get("/tickers/AAA/sentiment")
        assert response.status_code == 500
        assert response.json() == {"error": "injected fault (error_rate)"}
    assert client.get("/health").status_code == 200  # faults act on data routes
    assert requests(client, SENTIMENT, 500) == 3
    assert operations(client, "ok") == 4
    assert operations(client, "error") == 0
    client.put("/faults", json={"error_rate": 0})
    assert client.get("/tickers/AAA/sentiment").status_code == 200


def test_repository_down_fails_health_and_reads(client: TestClient) -> None:
    client.put("/faults", json={"repository_down": True})
    assert client.get("/faults").json()["repository_down"] is True
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert client.get("/tickers/AAA/sentiment").status_code == 500
    assert client.get("/tickers/top").status_code == 500
    assert operations(client, "error") == 3
    assert requests(client, "/health", 503) == 1
    client.put("/faults", json={"repository_down": False})
    assert client.get("/health").status_code == 200


def test_added_latency_is_slept_before_data_requests() -> None:
    sleep = FakeSleep()
    with client_for(sleep=sleep) as c:
        c.put("/faults", json={"added_latency_ms": 250})
        c.get("/tickers/AAA/sentiment")
        c.get("/health")
        assert sleep.slept_s == [0.25]


def test_added_latency_shows_in_the_histogram() -> None:
    app = create_app(version="canary", repository=FakeRepository(ROWS),
                     faults=FaultSwitches(added_latency_ms=30), sleep=time.sleep)
    with TestClient(app) as c:
        c.get("/tickers/AAA/sentiment")
        total = sample(c, "data_tier_request_duration_seconds_sum", route=SENTIMENT)
        assert total is not None and total >= 0.03
        assert sample(c, "data_tier_request_duration_seconds_bucket", route=SENTIMENT,
                      le="0.025") == 0


@pytest.mark.parametrize(("body", "status"), [
    ({"error_rate": 1.5}, 400),
    ({"error_rate": -0.1}, 400),
    ({"added_latency_ms": -1}, 400),
    ({"added_latency_ms": 10**9}, 400),
    ({"error_rate": "0.5"}, 422),
    ({"error_rate": True}, 422),
    ({"repository_down": "yes"}, 422),
    ({"repository_down": 1}, 422),
    ({"latency": 5}, 422),
])
def test_bad_fault_values_are_refused_and_change_nothing(client: TestClient,
                                                         body: dict[str, Any],
                                                         status: int) -> None:
    response = client.put("/faults", json=body)
    assert response.status_code == status
    assert client.get("/faults").json() == {"error_rate": 0.0, "added_latency_ms": 0.0,
                                            "repository_down": False}


def test_fault_update_keeps_unnamed_switches(client: TestClient) -> None:
    client.put("/faults", json={"added_latency_ms": 5})
    state = client.put("/faults", json={"error_rate": 0.5}).json()
    assert state == {"error_rate": 0.5, "added_latency_ms": 5.0, "repository_down": False}


def test_seeded_error_draws_repeat() -> None:
    first = FaultSwitches(error_rate=0.3, seed=7)
    second = FaultSwitches(error_rate=0.3, seed=7)
    draws = [[s.draw_error() for _ in range(200)] for s in (first, second)]
    assert draws[0] == draws[1]
    assert 30 < sum(draws[0]) < 90


def test_fault_switches_validate_directly() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        FaultSwitches(error_rate=2)
    switches = FaultSwitches(error_rate=1, repository_down=True)
    assert switches.draw_error() is True
    assert switches.reset().error_rate == 0.0
    assert switches.draw_error() is False


# --- CLI --------------------------------------------------------------------------------

BASE = ["--version", "stable", "--port", "0"]


@pytest.mark.parametrize(("argv", "named"), [
    ([*BASE, "--repository", "postgres", "--schema", "s"], "--dsn"),
    ([*BASE, "--repository", "iceberg", "--catalog", "c", "--catalog-uri", "u"],
     "--warehouse, --table"),
    ([*BASE, "--repository", "postgres", "--dsn", "d", "--schema", "s", "--host", "0.0.0.0"],
     "loopback"),
    (["--repository", "postgres", "--port", "1"], "--version"),
    ([*BASE, "--repository", "mysql"], "--repository"),
])
def test_cli_errors_exit_2_naming_the_option(capsys: pytest.CaptureFixture[str],
                                             argv: list[str], named: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert named in capsys.readouterr().err


def test_cli_builds_the_named_repository_without_connecting() -> None:
    pg = build_repository(parse_args([*BASE, "--repository", "postgres", "--dsn", "d",
                                             "--schema", "serving", "--host", "::1"]))
    assert isinstance(pg, PostgresRepository) and pg.schema == "serving"
    ice = build_repository(parse_args([
        *BASE, "--repository", "iceberg", "--catalog", "lake", "--catalog-uri", "sqlite://",
        "--warehouse", "file:///w", "--table", "serving.ticker_sentiment",
        "--cache-ttl-s", "2.5"]))
    assert isinstance(ice, IcebergRepository)
    assert ice.endpoint.catalog == "lake" and ice.cache_ttl_s == 2.5
    assert ice.identifier == "serving.ticker_sentiment"


def test_a_serving_map_switches_the_table_the_iceberg_repository_reads(tmp_path: Path) -> None:
    serving = ServingMap(tmp_path / "serving.json")
    ice = build_repository(parse_args([
        *BASE, "--repository", "iceberg", "--catalog", "lake", "--catalog-uri", "sqlite://",
        "--warehouse", "file:///w", "--table", "db.fct", "--serving", str(serving.path)]))
    assert isinstance(ice, IcebergRepository)
    assert ice.resolve() == "db.fct", "a missing map serves the logical table itself"
    serving.set({"fct": "fct_v2"}, reason="promoted")
    assert ice.resolve() == "db.fct_v2"
    serving.set({"fct": "fct"}, reason="rolled back")
    assert ice.resolve() == "db.fct"


def test_only_loopback_hosts_are_accepted() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "10.0.0.1", "example.com", "::"]))


# --- result shaping ---------------------------------------------------------------------

def arrow(rows: list[tuple[str, int, float | None]]) -> pa.Table:
    return pa.table({"ticker": [r[0] for r in rows], "score_count": [r[1] for r in rows],
                     "avg_score": pa.array([r[2] for r in rows], pa.float64())})


TABLE = arrow([("MMM", 2, 0.1234564999), ("AAA", 4, 0.5), ("ZZZ", 1, 0.5),
               ("NUL", 0, None), ("LOW", 9, -0.3333333333)])


def test_arrow_answers_round_to_six_decimals() -> None:
    assert ticker_from_arrow(TABLE, "MMM") == TickerSentiment("MMM", 2, 0.123456)
    assert ticker_from_arrow(TABLE, "LOW") == TickerSentiment("LOW", 9, -0.333333)
    assert ticker_from_arrow(TABLE, "NUL") == TickerSentiment("NUL", 0, None)
    assert ticker_from_arrow(TABLE, "mmm") is None


def test_arrow_top_ranks_by_score_then_ticker_with_nulls_last() -> None:
    assert [r.ticker for r in top_from_arrow(TABLE, 10)] == ["AAA", "ZZZ", "MMM", "LOW", "NUL"]
    assert [r.ticker for r in top_from_arrow(TABLE, 2)] == ["AAA", "ZZZ"]
    assert top_from_arrow(TABLE, 0) == []
    with pytest.raises(ValueError, match="limit"):
        top_from_arrow(TABLE, -1)


def test_arrow_table_without_the_columns_is_named() -> None:
    with pytest.raises(ValueError, match="avg_score"):
        check_columns(pa.table({"ticker": ["A"], "score_count": [1]}), "ns.t")


def test_iceberg_repository_rescans_only_after_the_ttl() -> None:
    clock, scans = FakeClock(), []

    def fake_reader(endpoint: IcebergEndpoint, identifier: str) -> pa.Table:
        scans.append((endpoint.catalog, endpoint.sqlalchemy_uri, identifier))
        return TABLE

    repo = IcebergRepository("lake", "sqlite://", "file:///w", "ns.ticker_sentiment",
                             reader=fake_reader, clock=clock, background=False)
    repo.health()
    assert repo.ticker_sentiment("AAA") == TickerSentiment("AAA", 4, 0.5)
    assert len(repo.top_tickers(3)) == 3
    assert scans == [("lake", "sqlite://", "ns.ticker_sentiment")]
    clock.now += 1.0
    repo.ticker_sentiment("AAA")
    assert len(scans) == 2


def test_a_stale_iceberg_cache_is_served_while_one_rescan_runs() -> None:
    clock, release, scans = FakeClock(), threading.Event(), []
    newer = TABLE.slice(0, 1)

    def slow_reader(endpoint: IcebergEndpoint, identifier: str) -> pa.Table:
        scans.append(identifier)
        if len(scans) == 1:
            return TABLE
        assert release.wait(5), "the test never released the rescan"
        return newer

    repo = IcebergRepository("lake", "sqlite://", "file:///w", "ns.t", reader=slow_reader,
                             clock=clock)
    assert repo.snapshot() is TABLE
    clock.now += 1.0
    assert repo.snapshot() is TABLE and repo.snapshot() is TABLE  # not waiting on the scan
    release.set()
    wait_until(lambda: None if repo.snapshot() is newer else "old table",
               timeout_s=5, what="the rescanned table served", interval_s=0.01)
    assert len(scans) == 2, "one rescan at a time"


def test_a_failed_background_rescan_is_reported_by_health() -> None:
    clock, scans = FakeClock(), []

    def failing_reader(endpoint: IcebergEndpoint, identifier: str) -> pa.Table:
        scans.append(identifier)
        if len(scans) > 1:
            raise OSError("catalog unreachable")
        return TABLE

    repo = IcebergRepository("lake", "sqlite://", "file:///w", "ns.t", reader=failing_reader,
                             clock=clock)
    repo.health()
    clock.now += 1.0
    repo.snapshot()
    wait_until(lambda: None if repo._refreshing is None else "rescanning", timeout_s=5,
               what="the rescan to end", interval_s=0.01)
    with pytest.raises(OSError, match="unreachable"):
        repo.health()


class RecordingPostgresRepository(PostgresRepository):
    """A PostgresRepository whose data access returns canned rows and records the SQL."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        super().__init__("postgresql://fake", "serving")
        self.canned = rows
        self.asked: list[tuple[str, tuple[Any, ...]]] = []

    def _fetch(self, query: Any, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        self.asked.append((query.as_string(None), params))
        return self.canned


def test_postgres_repository_shapes_like_iceberg() -> None:
    raw = ("MMM", 2, 0.1234564999)
    repo = RecordingPostgresRepository([raw])
    assert repo.ticker_sentiment("MMM") == ticker_from_arrow(TABLE, "MMM") == shape(*raw)
    sql, params = repo.asked[0]
    assert '"serving"."ticker_sentiment"' in sql and params == ("MMM",)
    assert RecordingPostgresRepository([]).ticker_sentiment("MMM") is None


def test_postgres_top_orders_in_sql_like_arrow() -> None:
    repo = RecordingPostgresRepository([("AAA", 4, 0.5)])
    assert repo.top_tickers(1) == top_from_arrow(TABLE, 1)
    sql, params = repo.asked[0]
    assert 'ORDER BY avg_score DESC NULLS LAST, ticker COLLATE "C" ASC LIMIT' in sql
    assert params == (1,)


def test_iceberg_repository_reads_a_real_table_through_the_project_reader(tmp_path: Path) -> None:
    uri, warehouse = f"sqlite:///{tmp_path}/catalog.db", f"file://{tmp_path}/warehouse"
    catalog = SqlCatalog("lake", uri=uri, warehouse=warehouse)
    catalog.create_namespace("serving")
    rows = pa.table({"ticker": ["A", "B"], "score_count": pa.array([2, 3], pa.int64()),
                     "avg_score": [0.1234567, 0.9]})
    catalog.create_table("serving.ticker_sentiment", schema=rows.schema).append(rows)
    catalog.engine.dispose()
    repo = IcebergRepository("lake", uri, warehouse, "serving.ticker_sentiment")
    repo.health()
    assert repo.ticker_sentiment("A") == TickerSentiment("A", 2, 0.123457)
    assert [r.ticker for r in repo.top_tickers(5)] == ["B", "A"]
