"""Prometheus from Debian's package, scraping HAProxy and the versions of the service.

The versions' scrape targets change during a run (versions start and stop); they are
listed in a file-based discovery file that the harness rewrites and Prometheus watches.
A version without a metrics endpoint is simply a target that is down: its error rate and
latency come from HAProxy's per-server counters and the load generator instead.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from harness.errors import PrerequisiteError
from harness.stack.endpoint import HaproxyEndpoint, PrometheusEndpoint
from harness.stack.local.process_service import ProcessService
from harness.stack.ports import HOST, allocate_port
from harness.stack.service import ReadinessProbe, http_ok


def prometheus_config(*, haproxy: HaproxyEndpoint, targets_file: Path,
                      interval: str) -> str:
    haproxy_target = haproxy.metrics_url.removeprefix("http://").removesuffix("/metrics")
    return json.dumps({  # JSON is YAML
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": [
            {"job_name": "haproxy", "static_configs": [{"targets": [haproxy_target]}]},
            {"job_name": "service_versions",
             "file_sd_configs": [{"files": [str(targets_file)], "refresh_interval": "1s"}]},
        ],
    }, indent=1)


class PrometheusService(ProcessService):
    """Prometheus with a short scrape interval, its data in the run directory."""

    name = "prometheus"

    def __init__(self, *, run_dir: Path, haproxy: HaproxyEndpoint,
                 scrape_interval: str = "1s", binary: str = "") -> None:
        self.binary = binary or shutil.which("prometheus") or ""
        if not self.binary:
            raise PrerequisiteError("prometheus not found; apt-get install prometheus, or run "
                                    "scripts/bootstrap")
        super().__init__(run_dir=run_dir)
        self.haproxy, self.scrape_interval = haproxy, scrape_interval
        self.port = 0

    @property
    def targets_file(self) -> Path:
        return self.home / "service_targets.json"

    def start(self) -> None:
        self.port = allocate_port(purpose="Prometheus")
        self.home.mkdir(parents=True, exist_ok=True)
        self.targets_file.write_text("[]")
        config = self.home / "prometheus.yml"
        config.write_text(prometheus_config(haproxy=self.haproxy, targets_file=self.targets_file,
                                            interval=self.scrape_interval))
        self.spawn([
            self.binary, f"--config.file={config}", f"--storage.tsdb.path={self.home / 'data'}",
            f"--web.listen-address={HOST}:{self.port}", "--web.enable-lifecycle",
            "--log.level=warn"])

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, self._check, self.died, log_path=self.log_path).wait(
            timeout_s)

    def _check(self) -> str | None:
        """Ready means answering queries with HAProxy scraped: /-/ready comes seconds
        before the first scrape is queryable, and a canary judged in those seconds would
        see a metrics source without data."""
        url = self.endpoint().url
        not_ready = http_ok(f"{url}/-/ready")
        if not_ready:
            return not_ready
        try:
            body = httpx.get(f"{url}/api/v1/query", params={"query": 'up{job="haproxy"}'},
                             timeout=2).json()
        except (httpx.HTTPError, ValueError) as exc:
            return f"query failed ({type(exc).__name__})"
        results = body.get("data", {}).get("result", [])
        if not any(r["value"][1] == "1" for r in results):
            return "HAProxy not scraped yet"
        return None

    def endpoint(self) -> PrometheusEndpoint:
        return PrometheusEndpoint(self.name, f"http://{HOST}:{self.port}",
                                  str(self.targets_file))
