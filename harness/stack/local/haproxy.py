"""HAProxy in front of the service under a canary: one backend, a ``stable`` and a
``canary`` server.

Servers start disabled with placeholder addresses; the router points them at the
versions' real ports and sets their weights through the runtime API (a unix socket), so
traffic moves without a reload and without dropping requests in flight. Every response
carries ``X-Cutover-Slot`` (the server that answered), so the load generator attributes
each request to a version even when the service names no version itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.errors import PrerequisiteError
from harness.stack.endpoint import HaproxyEndpoint
from harness.stack.local.process_service import ProcessService
from harness.stack.ports import HOST, allocate_port
from harness.stack.service import ReadinessProbe, http_ok

BACKEND = "service"
SLOT_HEADER = "X-Cutover-Slot"
SERVERS = ("stable", "canary")


def haproxy_config(*, port: int, metrics_port: int, socket: Path) -> str:
    servers = "".join(f"  server {name} {HOST}:9 weight 0 disabled\n" for name in SERVERS)
    return f"""global
  stats socket {socket} mode 600 level admin
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend {BACKEND}
  bind {HOST}:{port}
  default_backend {BACKEND}
frontend metrics
  bind {HOST}:{metrics_port}
  http-request use-service prometheus-exporter if {{ path /metrics }}
  stats enable
  stats uri /stats
backend {BACKEND}
  # random(1), not roundrobin: weighted random has no positional state, so a new split
  # holds from the next request (roundrobin catches up over hundreds of requests).
  # One draw: plain `random` draws two and takes the less loaded, which skews the split.
  balance random(1)
  http-response set-header {SLOT_HEADER} %s
{servers}"""


class HaproxyService(ProcessService):
    """HAProxy from Debian's package, in the foreground, owned by the harness."""

    name = "haproxy"

    def __init__(self, *, run_dir: Path, binary: str = "") -> None:
        self.binary = binary or shutil.which("haproxy") or ""
        if not self.binary:
            raise PrerequisiteError("haproxy not found; apt-get install haproxy, or run "
                                    "scripts/bootstrap")
        super().__init__(run_dir=run_dir)
        self.port = self.metrics_port = 0

    def start(self) -> None:
        self.port = allocate_port(purpose="HAProxy service frontend")
        self.metrics_port = allocate_port(purpose="HAProxy metrics")
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "haproxy.cfg"
        config.write_text(haproxy_config(port=self.port, metrics_port=self.metrics_port,
                                         socket=self.home / "admin.sock"))
        self.spawn([self.binary, "-db", "-f", str(config)])

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, self._check, self.died, log_path=self.log_path).wait(
            timeout_s)

    def _check(self) -> str | None:
        if not (self.home / "admin.sock").exists():
            return "runtime API socket not there yet"
        return http_ok(f"http://{HOST}:{self.metrics_port}/metrics")

    def endpoint(self) -> HaproxyEndpoint:
        return HaproxyEndpoint(self.name, f"http://{HOST}:{self.port}",
                               f"http://{HOST}:{self.metrics_port}/metrics",
                               str(self.home / "admin.sock"), BACKEND)
