"""How a canary run ended (:class:`CanaryOutcome`), where its router is, and the policy
of a verification run (:func:`run_policy`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.result import CheckResult
from harness.strategy.canary_state import CanaryState, Phase
from harness.strategy.policy import CanaryPolicy

OUTCOMES = ("promoted", "rolled_back", "aborted", "halted", "awaiting_approval", "blocked")


@dataclass(frozen=True)
class RouterWiring:
    """Where the stack's router and Prometheus are (from their endpoints)."""

    url: str
    admin_socket: str
    backend: str
    prometheus_url: str
    targets_file: str = ""


@dataclass
class CanaryOutcome:
    """How a canary run ended, with the evidence."""

    outcome: str
    decided_at_weight: int
    reason: str
    steps: list[dict[str, Any]]
    checks: list[CheckResult]
    figures: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.ok]

    def summary(self) -> str:
        """One line naming the weight at which the decision was taken."""
        words = {"promoted": "promoted after 100 %",
                 "rolled_back": f"rolled back at {self.decided_at_weight} %",
                 "aborted": f"aborted at {self.decided_at_weight} %",
                 "halted": f"halted at {self.decided_at_weight} %",
                 "awaiting_approval": "awaiting approval at 100 %",
                 "blocked": "blocked before any traffic moved"}
        failed = f"; {len(self.failed)} checks failed" if self.failed else ""
        return f"{words.get(self.outcome, self.outcome)} ({self.reason}){failed}"

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "decided_at_weight": self.decided_at_weight,
                "reason": self.reason, "summary": self.summary(), "steps": self.steps,
                "checks": [{"name": c.name, "ok": c.ok, "summary": c.summary,
                            "evidence": c.evidence} for c in self.checks],
                "figures": self.figures}


def outcome_of(state: CanaryState) -> tuple[str, int]:
    """The outcome name and the weight at which it was decided."""
    if state.phase is Phase.AWAITING_PROMOTION:
        return "awaiting_approval", 100
    decisive = {Phase.ROLLING_BACK: "rolled_back", Phase.ABORTED: "aborted",
                Phase.HALTED: "halted", Phase.PROMOTING: "promoted"}
    for change in reversed(state.history):
        phase = Phase(change["to"])
        if phase in decisive:
            weight = int(change["weight"]) if phase is not Phase.PROMOTING else 100
            return decisive[phase], weight
    return str(state.phase), state.weight


def run_policy(values: str | Path, *, root: str, compression_factor: float | None = None,
               min_samples: int | None = None,
               analysis_interval_s: float | None = None) -> CanaryPolicy:
    """The policy of a verification run: the values file's, enabled (the run is the
    canary), with the compression and sampling overrides given.

    Raises:
        PolicyError: The values file or an override is invalid; names the key.
    """
    import dataclasses

    from harness.strategy.policy import load_policy

    policy = load_policy(Path(values), root=root, compression_factor=compression_factor,
                         min_samples=min_samples)
    changes: dict[str, Any] = {"enabled": True}
    if analysis_interval_s is not None:
        changes["analysis_interval_s"] = analysis_interval_s
    return dataclasses.replace(policy, **changes)
