"""What a blue/green run records as it goes, and its outcome.

The state file (``bluegreen-state.json``) is rewritten after every step, so a run that
crashed leaves its phase, job ids, savepoints and checks behind: enough to clean up what
it started (:func:`cleanup_recorded`) and to see how far it got.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.result import CheckResult
from harness.flink.rest import TERMINAL, FlinkRestClient

STATE_FILE = "bluegreen-state.json"


@dataclass
class BlueGreenState:
    """What a run has done, as plain JSON (the file is rewritten after every step)."""

    phase: str = "init"
    statements: dict[str, str] = field(default_factory=dict)  # running: name -> job id
    stopped: dict[str, str] = field(default_factory=dict)
    savepoints: dict[str, str] = field(default_factory=dict)
    topic_prefix: str = ""
    rest_url: str = ""
    bootstrap_servers: str = ""
    checks: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class BlueGreenOutcome:
    """The verdict: every check held or not, with the plan and the figures."""

    ok: bool
    phase: str
    checks: list[CheckResult]
    plan: dict[str, Any]
    data_plan: dict[str, Any]
    expectations: dict[str, str]
    figures: dict[str, float]
    serving_map: str

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        return {"outcome": "passed" if self.ok else "failed", "phase": self.phase,
                "plan": self.plan, "data_plan": self.data_plan,
                "checks": [{"name": c.name, "ok": c.ok, "summary": c.summary,
                            "evidence": c.evidence} for c in self.checks],
                "expectations": self.expectations, "figures": self.figures,
                "serving_map": self.serving_map}


def cleanup_recorded(state_path: Path) -> list[str]:
    """Cancel the jobs a crashed run's state file lists; returns what was cancelled."""
    state = json.loads(Path(state_path).read_text())
    rest = FlinkRestClient(state["rest_url"])
    cancelled = []
    try:
        for name, job_id in state.get("statements", {}).items():
            if job_id and rest.job(job_id).state not in TERMINAL:
                rest.cancel(job_id, wait=False)
                cancelled.append(name)
    finally:
        rest.close()
    return cancelled
