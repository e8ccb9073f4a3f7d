"""Apicurio Registry, in-memory storage, with its Confluent-compatible API."""

from __future__ import annotations

from pathlib import Path

from harness.errors import PrerequisiteError
from harness.stack.endpoint import SchemaRegistryEndpoint
from harness.stack.local.process_service import JvmService
from harness.stack.ports import HOST, allocate_port
from harness.stack.service import ReadinessProbe, http_ok


class RegistryService(JvmService):
    """The registry's runner jar, bound to 127.0.0.1 on a free port."""

    name = "registry"

    def __init__(self, *, run_dir: Path, java: str, component_dir: Path,
                 heap: str = "384m") -> None:
        super().__init__(run_dir=run_dir, java=java)
        runners = sorted(component_dir.glob("libs/*/*-runner.jar"))
        if not runners:
            raise PrerequisiteError(f"no registry runner jar under {component_dir}; "
                                    "run `cutover install`")
        self.runner, self.heap, self.port = runners[0], heap, 0

    def start(self) -> None:
        self.port = allocate_port(purpose="schema registry")
        self.spawn_java([f"-Xmx{self.heap}", "-Xms64m", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1", f"-Djava.io.tmpdir={self.home}",
                    f"-Dquarkus.http.host={HOST}", f"-Dquarkus.http.port={self.port}",
                    "-Dquarkus.management.enabled=false", "-jar", str(self.runner)])

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, lambda: http_ok(f"{self.endpoint().ccompat_url}/subjects"),
                       self.died, log_path=self.log_path, interval_s=0.3).wait(timeout_s)

    def endpoint(self) -> SchemaRegistryEndpoint:
        base = f"http://{HOST}:{self.port}/apis"
        return SchemaRegistryEndpoint(self.name, f"{base}/ccompat/v7", f"{base}/registry/v2")
