"""The Fault interface, the JSON spec a schedule records, and the windows faults were on.

A fault is injected, held for a while (the run keeps going under it) and healed. Each
start and end is a ``fault`` event on the run's timeline with the fault's evidence; the
spec is what a bundle's ``fault_schedule`` keeps, so ``cutover replay`` injects the same
faults at the same points.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.errors import ConfigError
from harness.events import EventLog


@dataclass(frozen=True)
class FaultSpec:
    """What to inject, where, and when.

    Args:
        kind: The implementation (``process``, ``network``, ``data``, ``disk``).
        target: What it acts on: a process (``kafka``, ``flink-taskmanager``), a proxy
            (``flink-kafka``), a source table, a path.
        action: What it does there (``kill``, ``pause``, ``restart``, ``latency``, ...).
        at: When: a phase of the run (``plan_deploying``, ``checked``, ``migrating``).
        hold_s: How long the fault stays on before it is healed.
        params: The action's values (``{"latency_ms": 800}``, ``{"count": 20}``).
    """

    kind: str
    target: str
    action: str
    at: str = ""
    hold_s: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.hold_s < 0:
            raise ConfigError(f"fault {self.label}: hold_s must be >= 0, got {self.hold_s}")

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.action}:{self.target}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultSpec:
        unknown = sorted(set(data) - {"kind", "target", "action", "at", "hold_s", "params"})
        if unknown:
            raise ConfigError(f"fault spec {data!r}: unknown field(s) {', '.join(unknown)}")
        try:
            return cls(kind=str(data["kind"]), target=str(data["target"]),
                       action=str(data["action"]), at=str(data.get("at", "")),
                       hold_s=float(data.get("hold_s", 0.0)),
                       params=dict(data.get("params") or {}))
        except KeyError as exc:
            raise ConfigError(f"fault spec {data!r} lacks {exc.args[0]!r}; a fault needs "
                              "kind, target and action") from exc


class Fault(ABC):
    """One fault: ``inject`` turns it on, ``heal`` turns it off; each returns evidence."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec

    @abstractmethod
    def inject(self) -> dict[str, Any]:
        """Turn the fault on; returns what was done (pids, counts, offsets)."""

    def heal(self) -> dict[str, Any]:
        """Turn the fault off and wait until the target serves again; a no-op for faults
        that are over once injected (duplicates sent, a producer killed)."""
        return {}


@dataclass(frozen=True)
class FaultWindow:
    """When one fault was on (Unix seconds), with its evidence."""

    label: str
    started: float
    ended: float
    evidence: dict[str, Any]

    def covers(self, ts: float, *, grace_s: float = 0.0) -> bool:
        """True when ``ts`` falls while the fault was on, or within ``grace_s`` after."""
        return self.started <= ts <= self.ended + grace_s

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "started": self.started, "ended": self.ended,
                "held_s": round(self.ended - self.started, 2), **self.evidence}


@dataclass
class _Window:
    """A fault's window while it is on; ``closed`` once healed."""

    started: float
    evidence: dict[str, Any] = field(default_factory=dict)
    closed: FaultWindow | None = None

    def result(self) -> FaultWindow:
        if self.closed is None:
            raise RuntimeError("the fault is still on")
        return self.closed


class FaultRunner:
    """Injects faults, holds and heals them, and keeps their windows on the timeline."""

    def __init__(self, events: EventLog) -> None:
        self.events = events
        self.windows: list[FaultWindow] = []
        self._lock = threading.Lock()

    def run(self, fault: Fault) -> FaultWindow:
        """Inject ``fault``, hold it ``spec.hold_s`` seconds, heal it; the window it was
        on. Healing runs even when the injection or the hold fails."""
        with self.during(fault) as window:
            threading.Event().wait(fault.spec.hold_s)  # the fault's duration, not a wait
        return window.result()

    @contextmanager
    def during(self, fault: Fault) -> Iterator[_Window]:
        """The fault is on inside the block (whatever its ``hold_s``), healed after it."""
        spec = fault.spec
        window = _Window(time.time())
        self.events.emit("fault", phase="start", label=spec.label, spec=spec.to_json())
        try:
            window.evidence.update(fault.inject())
            yield window
        finally:
            window.evidence.update(fault.heal())
            window.closed = FaultWindow(spec.label, window.started, time.time(),
                                        window.evidence)
            with self._lock:
                self.windows.append(window.closed)
            self.events.emit("fault", phase="end", **window.closed.to_json())

    def summary(self) -> dict[str, Any]:
        """Figures for the outcome: how many faults, and each window."""
        with self._lock:
            return {"faults_injected": len(self.windows),
                    "faults": [w.to_json() for w in self.windows]}
