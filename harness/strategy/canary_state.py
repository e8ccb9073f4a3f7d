"""The recorded state of a canary: its phases, the state file, and the errors about it."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.atomic import write_json_atomic
from harness.errors import CutoverError


class Phase(StrEnum):
    """Where a canary is."""

    INIT = "init"
    DEPLOYING = "deploying"
    VERIFYING = "verifying"
    SHIFTING = "shifting"
    ANALYSING = "analysing"
    AWAITING_PROMOTION = "awaiting_promotion"
    PROMOTING = "promoting"
    PROMOTED = "promoted"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"
    HALTED = "halted"
    PAUSED = "paused"


TERMINAL = frozenset({Phase.PROMOTED, Phase.ROLLED_BACK, Phase.ABORTED, Phase.HALTED})


class CanaryStateError(CutoverError):
    """The recorded state cannot be read, or does not allow what was asked."""


class CanaryTimeoutError(CutoverError):
    """``run`` gave up before the canary reached a terminal phase; carries the state."""

    def __init__(self, state: CanaryState, timeout_s: float) -> None:
        self.state = state
        verdicts = ", ".join(s["verdict"] for s in state.samples[-5:]) or "none"
        super().__init__(f"canary still {state.phase} at {state.weight} % after {timeout_s:g} s"
                         f" (last verdicts: {verdicts}); NODATA and MARGINAL never promote: "
                         "send traffic to the canary, or raise timeout_s")


@dataclass
class CanaryState:
    """Everything the controller needs to resume, as plain JSON.

    Attributes:
        phase: The current phase.
        step_index: Index into ``policy.increments`` of the current weight.
        weight: Canary traffic in percent.
        step_started_at: Unix time the current traffic step began.
        window_started_at: Unix time the open analysis window began.
        retry_after: After a failed metric query, no new query before this time.
        samples: This step's samples: ``{ts, weight, verdict, values, reasons}``.
        pass_count: PASS samples in this step.
        failed_queries: Metric queries failed in a row.
        history: Phase changes: ``{ts, from, to, weight, reason}``.
    """

    phase: Phase = Phase.INIT
    step_index: int = 0
    weight: int = 0
    step_started_at: float | None = None
    window_started_at: float | None = None
    retry_after: float | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    pass_count: int = 0
    failed_queries: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """Why the last phase change happened ("" before any)."""
        return str(self.history[-1]["reason"]) if self.history else ""

    def to_json(self) -> dict[str, Any]:
        """The state as a JSON object."""
        return {**dataclasses.asdict(self), "phase": str(self.phase)}

    @classmethod
    def from_json(cls, data: Any) -> CanaryState:
        """Rebuild a state from ``to_json`` output.

        Raises:
            ValueError: The data is not a state.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        if not isinstance(data, dict) or not set(data) <= set(names):
            raise ValueError(f"expected a JSON object with fields {', '.join(names)}")
        state = cls(**{**data, "phase": Phase(data.get("phase", "init"))})
        counters = (state.step_index, state.weight, state.pass_count, state.failed_queries)
        if any(type(value) is not int for value in counters) or not (
                isinstance(state.samples, list) and isinstance(state.history, list)):
            raise ValueError("counters must be integers, samples and history lists")
        return state


class StateStore:
    """A canary's state in one JSON file; a missing file is a fresh canary."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> CanaryState:
        """The recorded state, or a fresh one when there is no file.

        Raises:
            CanaryStateError: The file is not a canary state; names the file and the fix.
        """
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return CanaryState()
        try:
            return CanaryState.from_json(json.loads(text))
        except (ValueError, TypeError) as exc:
            raise CanaryStateError(
                f"canary state file {self.path} is corrupt ({exc}). To start the canary "
                f"over, delete {self.path} after checking the router and flags (the old "
                "run may have left canary traffic on); to resume, restore the file from "
                "its last good copy") from exc

    def save(self, state: CanaryState) -> None:
        """Record ``state`` atomically: readers see the old state or the new one."""
        write_json_atomic(self.path, state.to_json())
