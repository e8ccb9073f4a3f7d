"""CPU and memory of each version's processes, against the limits in the values file.

The seed's metric table judges container CPU and memory utilization (< 80 % of the
limit). Locally a version is a process group, so its utilization is the CPU time and
resident memory of that group, sampled by psutil, over the Helm values'
``resources.limits`` (``cpu: 1500m``, ``memory: 2Gi``). A version given as a URL is not
ours to measure and is reported as such.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml

from harness.deploy.service import ServiceDeployer

_MEMORY_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
                 "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}


@dataclass(frozen=True)
class ResourceLimits:
    """A version's limits (None: not given)."""

    cpu_cores: float | None = None
    memory_bytes: float | None = None


def parse_cpu(value: object) -> float | None:
    """Kubernetes CPU quantity (``1500m``, ``1.5``, ``2``) in cores."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+m", text):
        return int(text[:-1]) / 1000
    try:
        return float(text)
    except ValueError:
        return None


def parse_memory(value: object) -> float | None:
    """Kubernetes memory quantity (``2Gi``, ``256Mi``, ``1G``, bytes) in bytes."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGTkmgt]i?)?", str(value).strip())
    if not match:
        return None
    return float(match.group(1)) * _MEMORY_UNITS[(match.group(2) or "").lower()]


def resource_limits(values: str | Path, root: str) -> ResourceLimits:
    """``<root>.resources.limits`` of a values file (empty limits when absent)."""
    node: Any = yaml.safe_load(Path(values).read_text())
    for part in [*root.split("."), "resources", "limits"]:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return ResourceLimits()
    return ResourceLimits(parse_cpu(node["cpu"]) if "cpu" in node else None,
                          parse_memory(node["memory"]) if "memory" in node else None)


class ResourceSampler:
    """Samples every running version's process group in a thread, by version label."""

    def __init__(self, deployer: ServiceDeployer, *, interval_s: float = 0.5) -> None:
        self.deployer, self.interval_s = deployer, interval_s
        self.samples: dict[str, list[tuple[float, float, int]]] = {}
        self._procs: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="resources", daemon=True)

    def start(self) -> ResourceSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            for running in list(self.deployer.slots.values()):
                if running.process is not None and running.process.alive():
                    cpu, rss = self._measure(running.process.pid)
                    self.samples.setdefault(running.version, []).append(
                        (time.time(), cpu, rss))

    def _measure(self, pid: int) -> tuple[float, int]:
        """CPU in cores since the last sample, and RSS, of ``pid`` and its children."""
        cpu, rss = 0.0, 0
        try:
            root = psutil.Process(pid)
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0, 0
        for member in members:
            proc = self._procs.setdefault(member.pid, member)
            try:
                cpu += proc.cpu_percent(None) / 100
                rss += proc.memory_info().rss
            except psutil.Error:
                continue
        return cpu, rss

    def summary(self, limits: ResourceLimits, *, since: float = 0.0) -> dict[str, Any]:
        """Per version: p90 and peak CPU (cores), peak RSS, and their share of the limits.
        Samples before ``since`` (start-up) are left out of the CPU figures."""
        out: dict[str, Any] = {}
        for version, samples in self.samples.items():
            steady = [s for s in samples if s[0] >= since][1:] or samples[1:]
            cpus = sorted(s[1] for s in steady) or [0.0]
            p90 = cpus[min(len(cpus) - 1, int(0.9 * len(cpus)))]
            rss = max(s[2] for s in samples)
            out[version] = {
                "samples": len(samples), "cpu_cores_p90": round(p90, 3),
                "cpu_cores_mean": round(statistics.fmean(cpus), 3),
                "cpu_cores_peak": round(max(cpus), 3), "rss_bytes_peak": rss,
                "cpu_limit_pct": round(100 * p90 / limits.cpu_cores, 1)
                if limits.cpu_cores else None,
                "memory_limit_pct": round(100 * rss / limits.memory_bytes, 1)
                if limits.memory_bytes else None}
        return out
