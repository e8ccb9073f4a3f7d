"""Toxiproxy, the network fault proxy, built by `cutover install --toxiproxy`.

With network faults on (``--cutover-network-faults``), Kafka's FLINK listener is reached
through Toxiproxy's ``flink-kafka`` proxy: Flink's statements bootstrap there, and the
broker advertises the proxy's address on that listener, so every connection of Flink to
Kafka crosses it. The harness's own clients use the broker directly.
"""

from __future__ import annotations

from pathlib import Path

from harness.stack.endpoint import HttpEndpoint
from harness.stack.local.process_service import ProcessService
from harness.stack.ports import HOST, allocate_port
from harness.stack.service import ReadinessProbe, http_ok


class ToxiproxyService(ProcessService):
    name = "toxiproxy"

    def __init__(self, *, run_dir: Path, binary: Path) -> None:
        super().__init__(run_dir=run_dir)
        self.binary, self.port = binary, 0

    def start(self) -> None:
        self.port = allocate_port(purpose="Toxiproxy API")
        self.spawn([str(self.binary), "-host", HOST, "-port", str(self.port)])

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, lambda: http_ok(f"{self.endpoint().url}/version"),
                       self.died, log_path=self.log_path).wait(timeout_s)

    def endpoint(self) -> HttpEndpoint:
        return HttpEndpoint(self.name, f"http://{HOST}:{self.port}")
