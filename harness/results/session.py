"""The results of one test session: a folder per run, a bundle per scenario, the report.

Layout::

    cutover-results/
      latest -> 20261122-031500-4242
      20261122-031500-4242/
        report.html            one self-contained file (plots, tables, timeline)
        summary.json           outcome, checks and bundle of every scenario
        junit.xml              when the run asked for it (`cutover run` does)
        scenarios/<slug>/      the incident bundle of each scenario run
          bundle.json  timeline.jsonl  inputs/  logs/ (on failure)
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from harness.atomic import write_json_atomic
from harness.results.bundle import read_timeline

_REPETITION = re.compile(r"-?rep\d+of\d+")


def new_run_id() -> str:
    """A results folder name: UTC time and this process's id."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid()}"


def base_nodeid(nodeid: str) -> str:
    """The node id without the repetition parameter (``test_x[rep2of3]`` → ``test_x``)."""
    if "[" not in nodeid:
        return nodeid
    head, params = nodeid.split("[", 1)
    params = _REPETITION.sub("", params[:-1]).strip("-")
    return f"{head}[{params}]" if params else head


def slug(nodeid: str) -> str:
    """A folder name for a node id: readable, unique enough, filesystem-safe."""
    path, _, name = nodeid.partition("::")
    stem = Path(path).stem
    text = f"{stem}--{name}" if name else stem
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:150]


class ResultsSession:
    """The folder of one run; scenario results are added as scenarios end."""

    def __init__(self, root: Path, *, command: str, run_id: str | None = None) -> None:
        self.root = root
        self.run_id = run_id or new_run_id()
        self.directory = root / self.run_id
        self.directory.mkdir(parents=True, exist_ok=True)
        self.command = command
        self.started = time.time()
        self.scenarios: list[dict[str, Any]] = []
        self._point_latest()

    def scenario_dir(self, nodeid: str) -> Path:
        directory = self.directory / "scenarios" / slug(nodeid)
        n = 1
        while directory.exists():  # the same test twice in one run (never overwrite)
            n += 1
            directory = self.directory / "scenarios" / f"{slug(nodeid)}-{n}"
        return directory

    def add(self, *, nodeid: str, outcome: str, duration_s: float, failure: str | None,
            bundle: Path, checks: list[dict[str, Any]], logs: list[Path],
            decision: str | None = None) -> dict[str, Any]:
        result = {"nodeid": nodeid, "outcome": outcome, "duration_s": round(duration_s, 3),
                  "failure": failure, "decision": decision,
                  "bundle": str(bundle.relative_to(self.directory)), "checks": checks,
                  "logs": [str(p.relative_to(self.directory)) for p in logs]}
        self.scenarios.append(result)
        self.write_summary()
        return result

    def run_data(self) -> dict[str, Any]:
        """The whole run with each scenario's timeline: what the report is made of."""
        scenarios = [{**s, "timeline": read_timeline(self.directory / s["bundle"] /
                                                     "timeline.jsonl")}
                     for s in self.scenarios]
        return {"run_id": self.run_id, "started": self.started, "finished": time.time(),
                "command": self.command, "results_dir": str(self.directory),
                "scenarios": scenarios}

    def write_summary(self) -> Path:
        path = self.directory / "summary.json"
        write_json_atomic(path, {"run_id": self.run_id, "command": self.command,
                                 "started": self.started, "scenarios": self.scenarios},
                          default=str)
        return path

    def write_report(self) -> Path:
        from harness.report.html import write_report  # rendering only when asked for

        return write_report(self.run_data(), self.directory / "report.html")

    def _point_latest(self) -> None:
        link = self.root / "latest"
        tmp = self.root / f".latest-{os.getpid()}"
        try:
            if tmp.is_symlink():
                tmp.unlink()
            tmp.symlink_to(self.run_id)
            os.replace(tmp, link)
        except OSError:
            pass  # a filesystem without symlinks: the run folder is still named


def summary_line(result: dict[str, Any]) -> str:
    """One line per scenario for the terminal and CI logs."""
    checks = result.get("checks", [])
    passed = sum(1 for c in checks if c["ok"])
    failed = [c["name"] for c in checks if not c["ok"]]
    line = (f"{result['outcome'].upper():7} {result['nodeid']} ({result['duration_s']:.1f} s"
            f", checks {passed}/{len(checks)}")
    line += f"; failed: {', '.join(failed)})" if failed else ")"
    if result.get("decision"):
        line += f" · last decision: {result['decision']}"
    return line
