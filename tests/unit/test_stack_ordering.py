"""Dependency ordering of the Stack, with a fake provider whose services do nothing."""

from pathlib import Path
from typing import ClassVar

from harness.config import load_config
from harness.stack.endpoint import Endpoint, HttpEndpoint
from harness.stack.service import Service
from harness.stack.stack import Stack


class FakeService(Service):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def start(self) -> None:
        self.log.append(f"start {self.name}")

    def wait_ready(self, timeout_s: float) -> None:
        self.log.append(f"ready {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")

    def clean(self) -> None:
        self.log.append(f"clean {self.name}")

    def endpoint(self) -> Endpoint:
        return HttpEndpoint(self.name, f"http://{self.name}")


def make_stack(tmp_path: Path, monkeypatch) -> tuple[Stack, list[str]]:
    from harness.stack import provider as provider_module
    from harness.stack.provider import Provider

    log: list[str] = []

    class FakeProvider(Provider):
        name: ClassVar[str] = "fake"

        @classmethod
        def service_names(cls) -> list[str]:
            return ["db", "catalog", "engine"]

        @classmethod
        def dependencies(cls, name: str) -> list[str]:
            return {"catalog": ["db"], "engine": ["catalog"]}.get(name, [])

        def service(self, name: str, running: dict[str, Endpoint]) -> Service:
            log.append(f"create {name} with {sorted(running)}")
            return FakeService(name, log)

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
