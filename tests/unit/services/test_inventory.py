"""The reference inventory service, in process and as a process: routes, faults, CLI."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.services.inventory import (
    Faults,
    FaultSwitches,
    Inventory,
    InventoryServer,
    item,
)
from fixtures.services.inventory.__main__ import build_service, is_loopback, parse_args
from fixtures.services.inventory.server import WINDOW_S

ROOT = Path(__file__).parents[3]


class RecordingSleep:
    """Records the sleeps asked for instead of sleeping (handler threads call it)."""

    def __init__(self) -> None:
        self.slept_s: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.slept_s.append(seconds)


class StillClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[InventoryServer, httpx.Client]]:
    """One server and one client for the module; each test gives it a fresh service."""
    server = InventoryServer(("127.0.0.1", 0), Inventory())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=server.url, timeout=5.0) as client:
            yield server, client
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def switches() -> FaultSwitches:
    return FaultSwitches(seed=1, clock=StillClock())


@pytest.fixture
def client(running: tuple[InventoryServer, httpx.Client], switches: FaultSwitches,
           sleep: RecordingSleep) -> httpx.Client:
    server, client = running
    server.service = Inventory(release="canary-7", faults=switches, sleep=sleep)
    return client


# --- routes ------------------------------------------------------------------------------

def test_healthz_reports_the_release_and_no_version_header(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "release": "canary-7"}
    assert response.headers["content-type"] == "application/json"
    assert not [name for name in response.headers if "version" in name.lower()]
    assert response.headers["server"] == "inventory"
    assert client.get("/metrics").status_code == 404


def test_items_are_deterministic_from_their_id(client: httpx.Client) -> None:
    first = client.get("/items/7")
    assert first.status_code == 200
    body = first.json()
    assert body == client.get("/items/7").json() == item(7)
    assert body["id"] == 7 and isinstance(body["name"], str) and isinstance(body["stock"], int)
    assert client.get("/items/1000").json()["id"] == 1000
    assert len({item(i)["name"] for i in range(1, 1001)}) == 1000  # type: ignore[index]


@pytest.mark.parametrize("item_id", ["0", "1001", "-3", "99999999999999999999999"])
def test_unknown_items_are_404(client: httpx.Client, item_id: str) -> None:
    response = client.get(f"/items/{item_id}")
    assert response.status_code == 404
    assert "error" in response.json()


@pytest.mark.parametrize("item_id", ["abc", "1.5", "", "%31", "1_000"])
def test_non_integer_item_ids_are_400(client: httpx.Client, item_id: str) -> None:
    response = client.get(f"/items/{item_id}")
    assert response.status_code == 400
    assert "integer" in response.json()["error"]


def test_item_list_defaults_to_ten_and_takes_a_limit(client: httpx.Client) -> None:
    assert [i["id"] for i in client.get("/items").json()] == list(range(1, 11))
    assert client.get("/items", params={"limit": 3}).json() == [item(1), item(2), item(3)]
    assert len(client.get("/items", params={"limit": 100}).json()) == 100
    for bad in ("0", "101", "x", "", "-1"):
        assert client.get("/items", params={"limit": bad}).status_code == 400, bad


def test_orders_get_increasing_numbers(client: httpx.Client) -> None:
    first = client.post("/orders", json={"item": 3, "quantity": 2})
    assert first.status_code == 201
    assert first.json() == {"order": 1, "item": 3, "quantity": 2}
    assert client.post("/orders", json={"item": 1000, "quantity": 1}).json()["order"] == 2


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b"{}", b'{"item": 3}', b'{"item": 3, "quantity": 0}',
    b'{"item": 3, "quantity": -1}', b'{"item": "3", "quantity": 1}',
    b'{"item": 3, "quantity": true}', b'{"item": 3, "quantity": 1.5}',
    b'{"item": 3, "quantity": 1, "price": 2}', b"\xff\xfe",
])
def test_bad_order_bodies_are_400(client: httpx.Client, body: bytes) -> None:
    response = client.post("/orders", content=body)
    assert response.status_code == 400
    assert response.json()["error"]


def test_orders_of_unknown_items_are_404(client: httpx.Client) -> None:
    assert client.post("/orders", json={"item": 1001, "quantity": 1}).status_code == 404


@pytest.mark.parametrize("path", ["/", "/item/1", "/items/1/stock", "/healthz/", "/admin"])
def test_unknown_paths_are_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("POST", "/healthz", "GET"), ("DELETE", "/items/1", "GET"), ("PUT", "/items", "GET"),
    ("GET", "/orders", "POST"), ("DELETE", "/admin/faults", "GET, PUT"),
    ("HEAD", "/items/1", "GET"),
])
def test_wrong_methods_are_405(client: httpx.Client, method: str, path: str,
                               allow: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow


def test_keep_alive_serves_many_requests_on_one_connection(client: httpx.Client) -> None:
    conn = http.client.HTTPConnection(client.base_url.host, client.base_url.port, timeout=5)
    try:
        for path in ("/healthz", "/items/1", "/nowhere", "/items/x", "/items?limit=2"):
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.getheader("Content-Length") == str(len(response.read()))
            assert not response.will_close, path
        sock = conn.sock
        conn.request("POST", "/orders", body=b'{"item": 1, "quantity": 1}')
        assert conn.getresponse().read()
        assert conn.sock is sock  # no reconnect
    finally:
        conn.close()


def test_a_client_that_disconnects_leaves_no_traceback(
        client: httpx.Client, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_connection((client.base_url.host, client.base_url.port)) as raw:
        raw.sendall(b"POST /orders HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
    with socket.create_connection((client.base_url.host, client.base_url.port)) as raw:
        raw.sendall(b"GET /items/1 HTTP/1.1\r\n")
    assert client.get("/healthz").status_code == 200
    time.sleep(0.05)
    assert "Traceback" not in capsys.readouterr().err


# --- faults ------------------------------------------------------------------------------

def test_error_rate_one_fails_data_routes_but_not_health_or_admin(
        switches: FaultSwitches, client: httpx.Client) -> None:
    switches.update({"error_rate": 1.0})
    assert client.get("/items/1").status_code == 503
    assert client.get("/items").status_code == 503
    assert client.post("/orders", json={"item": 1, "quantity": 1}).status_code == 503
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/faults").status_code == 200
    assert client.get("/nowhere").status_code == 404


def test_seeded_error_draws_repeat() -> None:
    def draws(seed: int) -> list[bool]:
        switches = FaultSwitches(Faults(error_rate=0.5), seed=seed, clock=StillClock())
        return [switches.admit().error for _ in range(200)]

    assert draws(7) == draws(7)
    assert 60 < sum(draws(7)) < 140


def test_latency_is_added_to_data_routes_only(
        switches: FaultSwitches, sleep: RecordingSleep, client: httpx.Client) -> None:
    switches.update({"latency_ms": 150})
    client.get("/healthz")
    client.get("/admin/faults")
    assert sleep.slept_s == []
    client.get("/items/1")
    client.post("/orders", json={"item": 1, "quantity": 1})
    assert sleep.slept_s == [0.15, 0.15]


def test_latency_really_sleeps(running: tuple[InventoryServer, httpx.Client]) -> None:
    server, client = running
    server.service = Inventory(faults=FaultSwitches(Faults(latency_ms=120)))
    started = time.monotonic()
    assert client.get("/items/1").status_code == 200
    assert time.monotonic() - started >= 0.12
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 0.12


def test_overload_latency_only_above_the_capacity() -> None:
    clock = StillClock()  # capacity 1 per second: 3 requests within the 3 s window
    switches = FaultSwitches(Faults(latency_ms=10, capacity_rps=1, overload_latency_ms=800),
                             clock=clock)
    delays = []
    for _ in range(5):  # at 100, 100.5, ... 102
        delays.append(switches.admit().delay_s)
        clock.now += 0.5
    assert delays == [0.01, 0.01, 0.01, 0.81, 0.81]
    clock.now = 104.4  # only the last two (101.5, 102) are within the window
    assert [switches.admit().overloaded for _ in range(3)] == [False, True, True]
    clock.now += WINDOW_S
    assert [switches.admit().overloaded for _ in range(4)] == [False, False, False, True]


def test_a_steady_rate_at_the_capacity_is_never_overloaded() -> None:
    clock = StillClock()
    switches = FaultSwitches(Faults(capacity_rps=8), clock=clock)
    overloaded = []
    for _ in range(100):  # 8 per second exactly
        overloaded.append(switches.admit().overloaded)
        clock.now += 0.125
    assert not any(overloaded)
    # the request due now is the 24th within the window; one more at once is one too many
    assert [switches.admit().overloaded for _ in range(2)] == [False, True]


def test_a_stall_that_admits_half_a_second_at_once_is_not_an_overload() -> None:
    """Requests queued while the process stalled are admitted together, the rate unchanged."""
    clock = StillClock()
    start = clock.now
    switches = FaultSwitches(Faults(capacity_rps=36), clock=clock)
    overloaded = []
    for tick in range(24 * 10):  # 24 per second for 10 s; stalled the first 0.5 s of every 2
        arrived = tick / 24
        stall_end = arrived // 2 * 2 + 0.5
        clock.now = start + max(arrived, stall_end)
        overloaded.append(switches.admit().overloaded)
    assert not any(overloaded)
    clock.now += 0.01  # 40 per second over the window is above the capacity
    assert any([switches.admit().overloaded for _ in range(48)])


def test_overload_counts_data_requests_only(
        switches: FaultSwitches, sleep: RecordingSleep, client: httpx.Client) -> None:
    switches.update({"capacity_rps": 1})  # 3 within the window
    for _ in range(5):
        client.get("/healthz")
        client.get("/admin/faults")
    client.get("/items/1")
    client.get("/items/2")
    client.get("/items")
    assert sleep.slept_s == []
    client.post("/orders", json={"item": 1, "quantity": 1})
    assert sleep.slept_s == [0.8]


def test_faults_endpoint_reads_and_changes_a_subset(client: httpx.Client) -> None:
    defaults = {"error_rate": 0.0, "latency_ms": 0.0, "capacity_rps": 0,
                "overload_latency_ms": 800.0, "jitter_ms": 0.0}
    assert client.get("/admin/faults").json() == defaults
    changed = client.put("/admin/faults", json={"latency_ms": 25, "capacity_rps": 40})
    assert changed.status_code == 200
    assert changed.json() == {**defaults, "latency_ms": 25.0, "capacity_rps": 40}
    assert client.get("/admin/faults").json() == changed.json()
    assert client.put("/admin/faults", json={}).json() == changed.json()
    client.put("/admin/faults", json={"error_rate": 1})
    assert client.get("/items/1").status_code == 503


@pytest.mark.parametrize("body", [
    {"error_rate": 1.5}, {"error_rate": -0.1}, {"error_rate": "0.5"}, {"error_rate": True},
    {"latency_ms": -1}, {"latency_ms": 1e9}, {"capacity_rps": 1.5}, {"capacity_rps": -1},
    {"overload_latency_ms": None}, {"latency": 10}, {"latency_ms": 10, "error_rate": 2},
    [1], "x",
])
def test_bad_fault_values_are_400_and_change_nothing(client: httpx.Client, body: Any) -> None:
    before = client.get("/admin/faults").json()
    response = client.put("/admin/faults", json=body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert client.get("/admin/faults").json() == before


def test_non_finite_fault_values_are_400(client: httpx.Client) -> None:
    assert client.put("/admin/faults", content=b'{"latency_ms": NaN}').status_code == 400


# --- command line ------------------------------------------------------------------------

def test_cli_defaults() -> None:
    args = parse_args(["--port", "0"])
    assert (args.host, args.port, args.release, args.seed) == ("127.0.0.1", 0, "dev", None)
    assert build_service(args).faults.state() == Faults()


def test_cli_options_reach_the_service() -> None:
    args = parse_args(["--port", "8091", "--release", "canary", "--error-rate", "0.25",
                       "--latency-ms", "20", "--capacity-rps", "40",
                       "--overload-latency-ms", "500", "--seed", "3"])
    service = build_service(args)
    assert service.release == "canary"
    assert service.faults.state() == Faults(0.25, 20.0, 40, 500.0)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "example.com", ""])
def test_cli_refuses_non_loopback_hosts(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(["--port", "0", "--host", host])
    assert exc.value.code == 2
    assert "not a loopback address" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert is_loopback(host)
    assert parse_args(["--port", "0", "--host", host]).host == host


@pytest.mark.parametrize("argv", [
    [], ["--port", "x"], ["--port", "70000"], ["--port", "0", "--error-rate", "1.5"],
    ["--port", "0", "--error-rate", "nan"], ["--port", "0", "--latency-ms", "-1"],
    ["--port", "0", "--capacity-rps", "-1"], ["--port", "0", "--overload-latency-ms", "inf"],
])
def test_cli_refuses_bad_options(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_the_process_serves_then_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fixtures.services.inventory", "--port", "0",
         "--release", "canary", "--latency-ms", "50"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("inventory canary listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok", "release": "canary"}
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as raw:  # gone before the reply
            raw.sendall(b"GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=5)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert err == ""
