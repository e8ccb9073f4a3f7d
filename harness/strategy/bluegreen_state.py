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

import httpx

from harness.checks.result import CheckResult
from harness.errors import CutoverError
from harness.flink.errors import FlinkError
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
        outcome = "refused" if self.phase == "refused" else "passed" if self.ok else "failed"
        return {"outcome": outcome, "phase": self.phase,
                "plan": self.plan, "data_plan": self.data_plan,
                "checks": [{"name": c.name, "ok": c.ok, "summary": c.summary,
                            "evidence": c.evidence} for c in self.checks],
                "expectations": self.expectations, "figures": self.figures,
                "serving_map": self.serving_map}


def cleanup_recorded(path: Path, *, rest_url: str = "",
                     client: FlinkRestClient | None = None) -> dict[str, list[str]]:
    """Cancel the jobs a crashed run left running, from its state file (or the bundle
    folder holding it); ``rest_url`` replaces the recorded cluster address.

    Returns ``cancelled`` (were running, now cancelled), ``ended`` (had already
    finished, failed or been cancelled) and ``unknown`` (the cluster no longer knows
    them, e.g. it was restarted), each a list of statement names.

    Raises:
        CutoverError: No state file there, or the cluster does not answer (naming it).
    """
    state_file = Path(path) / STATE_FILE if Path(path).is_dir() else Path(path)
    if not state_file.is_file():
        raise CutoverError(f"{state_file}: no blue/green state file; give a run's bundle "
                           f"folder (cutover-results/<run>/scenarios/<x>) or its {STATE_FILE}")
    state = json.loads(state_file.read_text())
    url = rest_url or state.get("rest_url", "")
    rest = client or FlinkRestClient(url)
    found: dict[str, list[str]] = {"cancelled": [], "ended": [], "unknown": []}
    try:
        for name, job_id in sorted(state.get("statements", {}).items()):
            if not job_id:
                continue
            try:
                running = rest.job(job_id).state not in TERMINAL
            except FlinkError:
                found["unknown"].append(name)
                continue
            if running:
                rest.cancel(job_id, wait=False)
            found["cancelled" if running else "ended"].append(name)
    except httpx.HTTPError as exc:
        raise CutoverError(f"the Flink cluster at {url or '(none recorded)'} does not answer "
                           f"({type(exc).__name__}); give its REST address with --rest-url"
                           ) from exc
    finally:
        if client is None:
            rest.close()
    return found
