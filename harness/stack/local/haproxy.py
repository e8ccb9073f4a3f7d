"""HAProxy in front of the data tier: one backend, a ``stable`` and a ``canary`` server.

Servers start disabled with placeholder addresses; the router points them at the
versions' real ports and sets their weights through the runtime API (a unix socket), so
traffic moves without a reload and without dropping requests in flight.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.errors import PrerequisiteError
from harness.stack.endpoint import HaproxyEndpoint
from harness.stack.ports import HOST, allocate_port
from harness.stack.process import ManagedProcess, peak_rss_bytes
from harness.stack.service import ProcessRecord, ReadinessProbe, Service, http_ok

BACKEND = "data_tier"
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
  # random, not roundrobin: weighted random has no positional state, so a new split
  # holds from the next request (roundrobin catches up over hundreds of requests).
  balance random
{servers}"""


class HaproxyService(Service):
    """HAProxy from Debian's package, in the foreground, owned by the harness."""

    name = "haproxy"

    def __init__(self, *, run_dir: Path) -> None:
        self.binary = shutil.which("haproxy") or ""
        if not self.binary:
            raise PrerequisiteError("haproxy not found; apt-get install haproxy, or run "
                                    "scripts/bootstrap")
        self.home = run_dir / "haproxy"
        self.log_path = run_dir / "logs" / "haproxy.log"
        self.port = self.metrics_port = 0
        self.process: ManagedProcess | None = None

    def start(self) -> None:
        self.port = allocate_port(purpose="HAProxy data-tier frontend")
        self.metrics_port = allocate_port(purpose="HAProxy metrics")
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "haproxy.cfg"
        config.write_text(haproxy_config(port=self.port, metrics_port=self.metrics_port,
                                         socket=self.home / "admin.sock"))
        self.process = ManagedProcess.spawn(self.name, [self.binary, "-db", "-f", str(config)],
                                            log_path=self.log_path, cwd=self.home)

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, self._check, self._died, log_path=self.log_path).wait(
            timeout_s)

    def _check(self) -> str | None:
        if not (self.home / "admin.sock").exists():
            return "runtime API socket not there yet"
        return http_ok(f"http://{HOST}:{self.metrics_port}/metrics")

    def _died(self) -> str | None:
        if self.process is None or self.process.alive():
            return None
        return f"haproxy exited with code {self.process.exit_code()}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def clean(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def endpoint(self) -> HaproxyEndpoint:
        return HaproxyEndpoint(self.name, f"http://{HOST}:{self.port}",
                               f"http://{HOST}:{self.metrics_port}/metrics",
                               str(self.home / "admin.sock"), BACKEND)

    def collect_logs(self, dest: Path) -> list[Path]:
        return [self.log_path] if self.log_path.exists() else []

    def processes(self) -> list[ProcessRecord]:
        if self.process is None:
            return []
        return [ProcessRecord(self.name, self.process.pid, self.process.stop_signal,
                              str(self.log_path))]

    def stats(self) -> dict[str, int]:
        return {"peak_rss_bytes": peak_rss_bytes(self.process.pid) if self.process else 0}
