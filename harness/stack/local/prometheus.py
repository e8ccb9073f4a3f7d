"""Prometheus from Debian's package, scraping HAProxy and the data-tier versions.

Scrape targets of the data tier change during a run (versions start and stop); they are
listed in a file-based discovery file that the harness rewrites and Prometheus watches.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.errors import PrerequisiteError
from harness.stack.endpoint import HaproxyEndpoint, PrometheusEndpoint
from harness.stack.ports import HOST, allocate_port
from harness.stack.process import ManagedProcess, peak_rss_bytes
from harness.stack.service import ProcessRecord, ReadinessProbe, Service, http_ok


def prometheus_config(*, haproxy: HaproxyEndpoint, targets_file: Path,
                      interval: str) -> str:
    haproxy_target = haproxy.metrics_url.removeprefix("http://").removesuffix("/metrics")
    return json.dumps({  # JSON is YAML
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": [
            {"job_name": "haproxy", "static_configs": [{"targets": [haproxy_target]}]},
            {"job_name": "data_tier",
             "file_sd_configs": [{"files": [str(targets_file)], "refresh_interval": "1s"}]},
        ],
    }, indent=1)


class PrometheusService(Service):
    """Prometheus with a short scrape interval, its data in the run directory."""

    name = "prometheus"

    def __init__(self, *, run_dir: Path, haproxy: HaproxyEndpoint,
                 scrape_interval: str = "1s") -> None:
        self.binary = shutil.which("prometheus") or ""
        if not self.binary:
            raise PrerequisiteError("prometheus not found; apt-get install prometheus, or run "
                                    "scripts/bootstrap")
        self.haproxy, self.scrape_interval = haproxy, scrape_interval
        self.home = run_dir / "prometheus"
        self.log_path = run_dir / "logs" / "prometheus.log"
        self.port = 0
        self.process: ManagedProcess | None = None

    @property
    def targets_file(self) -> Path:
        return self.home / "data_tier_targets.json"

    def start(self) -> None:
        self.port = allocate_port(purpose="Prometheus")
        self.home.mkdir(parents=True, exist_ok=True)
        self.targets_file.write_text("[]")
        config = self.home / "prometheus.yml"
        config.write_text(prometheus_config(haproxy=self.haproxy, targets_file=self.targets_file,
                                            interval=self.scrape_interval))
        self.process = ManagedProcess.spawn(self.name, [
            self.binary, f"--config.file={config}", f"--storage.tsdb.path={self.home / 'data'}",
            f"--web.listen-address={HOST}:{self.port}", "--web.enable-lifecycle",
            "--log.level=warn"], log_path=self.log_path, cwd=self.home)

    def wait_ready(self, timeout_s: float) -> None:
        ReadinessProbe(self.name, lambda: http_ok(f"{self.endpoint().url}/-/ready"),
                       self._died, log_path=self.log_path).wait(timeout_s)

    def _died(self) -> str | None:
        if self.process is None or self.process.alive():
            return None
        return f"prometheus exited with code {self.process.exit_code()}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def clean(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def endpoint(self) -> PrometheusEndpoint:
        return PrometheusEndpoint(self.name, f"http://{HOST}:{self.port}",
                                  str(self.targets_file))

    def collect_logs(self, dest: Path) -> list[Path]:
        return [self.log_path] if self.log_path.exists() else []

    def processes(self) -> list[ProcessRecord]:
        if self.process is None:
            return []
        return [ProcessRecord(self.name, self.process.pid, self.process.stop_signal,
                              str(self.log_path))]

    def stats(self) -> dict[str, int]:
        return {"peak_rss_bytes": peak_rss_bytes(self.process.pid) if self.process else 0}
