"""Dependency ordering of the Stack, with a fake provider whose services do nothing."""

import threading
from pathlib import Path
from typing import ClassVar

import pytest

from harness.config import load_config
from harness.errors import ServiceStartError
from harness.stack.endpoint import Endpoint, HttpEndpoint
from harness.stack.service import Service
from harness.stack.stack import Stack


class FakeService(Service):
    """Readiness returns at once, or when ``gates[name]`` is set; fails for ``failing``."""

    def __init__(self, name: str, log: list[str], gates: dict[str, threading.Event],
                 failing: set[str]) -> None:
        self.name, self.log, self.gates, self.failing = name, log, gates, failing

    def start(self) -> None:
        self.log.append(f"start {self.name}")

    def wait_ready(self, timeout_s: float) -> None:
        if self.name in self.gates:
            assert self.gates[self.name].wait(5), f"{self.name} never released"
        if self.name in self.failing:
            raise ServiceStartError(self.name, "not ready after 0s")
        self.log.append(f"ready {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")

    def clean(self) -> None:
        self.log.append(f"clean {self.name}")

    def endpoint(self) -> Endpoint:
        return HttpEndpoint(self.name, f"http://{self.name}")


def make_stack(tmp_path: Path, monkeypatch, *, gates: dict[str, threading.Event] | None = None,
               failing: set[str] | None = None) -> tuple[Stack, list[str]]:
    from harness.stack import providers as provider_module
    from harness.stack.provider import Provider

    log: list[str] = []

    class FakeProvider(Provider):
        name: ClassVar[str] = "fake"

        @classmethod
        def service_names(cls) -> list[str]:
            return ["db", "catalog", "engine", "broker", "connect"]

        @classmethod
        def dependencies(cls, name: str) -> list[str]:
            return {"catalog": ["db"], "engine": ["catalog"], "connect": ["broker"]}.get(name, [])

        def service(self, name: str, running: dict[str, Endpoint]) -> Service:
            log.append(f"create {name} with {sorted(running)}")
            return FakeService(name, log, gates or {}, failing or set())

    monkeypatch.setattr(provider_module, "provider_registry", lambda: {"fake": FakeProvider})
    config = load_config(cli={"provider": "fake", "run_root": str(tmp_path)}, environ={})
    return Stack(config), log


def test_dependencies_start_first_and_are_ready_before_dependents(tmp_path, monkeypatch):
    stack, log = make_stack(tmp_path, monkeypatch)
    stack.require("engine")
    assert log == ["create db with []", "start db", "ready db",
                   "create catalog with ['db']", "start catalog", "ready catalog",
                   "create engine with ['catalog', 'db']", "start engine", "ready engine"]
    stack.close()


def test_teardown_is_stop_then_clean_in_reverse_start_order(tmp_path, monkeypatch):
    stack, log = make_stack(tmp_path, monkeypatch)
    stack.require("catalog")
    log.clear()
    stack.close()
    assert log == ["stop catalog", "stop db", "clean catalog", "clean db"]


def test_a_running_service_is_not_started_twice(tmp_path, monkeypatch):
    stack, log = make_stack(tmp_path, monkeypatch)
    stack.require("db")
    stack.require("db", "catalog")
    assert log.count("start db") == 1
    stack.close()


def test_a_service_starts_once_its_own_dependencies_are_ready_not_the_whole_level(
        tmp_path, monkeypatch):
    slow_db = threading.Event()
    stack, log = make_stack(tmp_path, monkeypatch, gates={"db": slow_db})
    # db is slow; connect depends only on broker, so it must not wait for db
    waiter = threading.Thread(target=stack.require, args=("catalog", "connect"))
    waiter.start()
    for _ in range(500):
        if "ready connect" in log:
            break
        threading.Event().wait(0.01)
    assert "ready connect" in log and "ready db" not in log, log
    slow_db.set()
    waiter.join(5)
    assert log.index("ready db") < log.index("start catalog")
    stack.close()


def test_a_failed_start_tears_down_what_this_call_started_and_nothing_else(
        tmp_path, monkeypatch):
    stack, log = make_stack(tmp_path, monkeypatch, failing={"catalog"})
    stack.require("broker")
    log.clear()
    with pytest.raises(ServiceStartError):
        stack.require("engine")
    assert "stop catalog" in log and "stop db" in log, "its dependency started here too"
    assert "stop broker" not in log, "a service that ran before the call stays"
    assert "start engine" not in log
    assert set(stack.services) == {"broker"}
    stack.close()
