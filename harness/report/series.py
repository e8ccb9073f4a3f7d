"""Plot series extracted from one scenario's event timeline.

Pure functions over the JSON form of events (``{"ts": ..., "kind": ..., **details}``).
X values are seconds since ``t0``, normally the first event of the scenario (``origin``);
Y values of ``None`` are gaps (a value recorded as ``"n/a"`` or missing).

Times come from ``ts`` (when the event was logged), falling back to ``at``: ``ts`` is the
one clock every event kind shares, so faults, weights and verdicts line up.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Point = tuple[float, float | None]
Event = Mapping[str, Any]

VERDICTS = ("pass", "marginal", "fail", "nodata")
_TERMINAL_PHASES = {"promoted": "promoted", "aborted": "aborted", "halted": "halted"}
_NOT_SWITCHES = {"ts", "kind", "slot", "at"}


def number(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` for anything else (``"n/a"``, bools, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def event_time(event: Event) -> float | None:
    for key in ("ts", "at"):
        value = number(event.get(key))
        if value is not None:
            return value
    return None


def events(timeline: object) -> list[Event]:
    """The well-formed events (mappings with a string ``kind``) of ``timeline``."""
    if not isinstance(timeline, list | tuple):
        return []
    return [e for e in timeline if isinstance(e, Mapping) and isinstance(e.get("kind"), str)]


def origin(timeline: object) -> float | None:
    """The time of the earliest event, or ``None`` when no event has a time."""
    times = [t for e in events(timeline) if (t := event_time(e)) is not None]
    return min(times) if times else None


def timed(timeline: object, kinds: Iterable[str], t0: float) -> list[tuple[float, Event]]:
    """Events of ``kinds`` as ``(x, event)``, in time order (stable for equal times)."""
    wanted = set(kinds)
    found = [(t - t0, e) for e in events(timeline)
             if e["kind"] in wanted and (t := event_time(e)) is not None]
    return sorted(found, key=lambda pair: pair[0])


def end_x(timeline: object, t0: float) -> float | None:
    times = [t for e in events(timeline) if (t := event_time(e)) is not None]
    return max(times) - t0 if times else None


# --- canary ---------------------------------------------------------------------------


def has_canary(timeline: object) -> bool:
    return any(str(e["kind"]).startswith("canary.") for e in events(timeline))


def canary_policy(timeline: object) -> dict[str, Any]:
    """The thresholds of the latest ``canary.policy`` event (empty if there is none)."""
    policy: dict[str, Any] = {}
    for e in events(timeline):
        if e["kind"] == "canary.policy":
            policy.update({k: v for k, v in e.items() if k not in ("ts", "kind")})
    return policy


def canary_weights(timeline: object, t0: float) -> list[Point]:
    """Canary traffic % over time, for a step plot, held until the timeline's last event.

    ``canary.weight`` events are authoritative; without them the ``weight`` recorded on
    each ``canary.phase`` transition (the weight in force after it) is used.
    """
    points: list[Point] = []
    for kind in ("canary.weight", "canary.phase"):
        for x, e in timed(timeline, [kind], t0):
            weight = number(e.get("weight"))
            if weight is not None and (not points or points[-1][1] != weight):
                points.append((x, weight))
        if points:
            break
    last = end_x(timeline, t0)
    if points and last is not None and last > points[-1][0]:
        points.append((last, points[-1][1]))
    return points


def weight_at(steps: Sequence[Point], x: float) -> float | None:
    """The step value in force at ``x`` (latest point at or before it)."""
    value: float | None = None
    for px, py in steps:
        if px > x:
            break
        value = py
    return value


@dataclass(frozen=True)
class Analysis:
    """One ``canary.analysis`` verdict."""

    x: float
    weight: float | None
    verdict: str
    reasons: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)

    def value(self, key: str) -> float | None:
        return number(self.values.get(key))


def analyses(timeline: object, t0: float) -> list[Analysis]:
    found = []
    for x, e in timed(timeline, ["canary.analysis"], t0):
        reasons = e.get("reasons")
        values = e.get("values")
        found.append(Analysis(
            x=x, weight=number(e.get("weight")),
            verdict=str(e.get("verdict") or "nodata").lower(),
            reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
            values=values if isinstance(values, Mapping) else {}))
    return found


def analysis_series(timeline: object, t0: float, key: str) -> list[Point]:
    """``values[key]`` of every analysis; non-numeric values (``"n/a"``) become gaps."""
    return [(a.x, a.value(key)) for a in analyses(timeline, t0)]


def error_rates(timeline: object, t0: float) -> dict[str, list[Point]]:
    """Error rate % of ``"stable"`` and ``"canary"`` at each analysis."""
    return {slot: analysis_series(timeline, t0, f"{slot}_error_rate_pct")
            for slot in ("stable", "canary")}


def latencies(timeline: object, t0: float) -> dict[str, list[Point]]:
    """Latency ms keyed ``"stable p95"``, ``"stable p99"``, ``"canary p95"``, ``"canary p99"``."""
    return {f"{slot} p{p}": analysis_series(timeline, t0, f"{slot}_p{p}_ms")
            for slot in ("stable", "canary") for p in (95, 99)}


@dataclass(frozen=True)
class Annotation:
    """Something worth a vertical line; ``kind`` is one of ``fault_on``, ``faults_off``,
    ``rollback``, ``rollback_skipped``, ``promoted``, ``aborted``, ``halted``."""

    x: float
    kind: str
    label: str


def _fault_annotation(x: float, e: Event) -> Annotation:
    if e.get("phase") in ("start", "end") and "label" in e:  # a fault of harness.faults
        on = e["phase"] == "start"
        label = f"{'fault' if on else 'healed'}: {e['label']}"
        return Annotation(x, "fault_on" if on else "faults_off",
                          label if len(label) <= 48 else label[:47] + "…")
    switches = {k: v for k, v in e.items() if k not in _NOT_SWITCHES}
    on = {k: v for k, v in switches.items() if v not in (0, False, None, "", [], {})}
    if not on:
        return Annotation(x, "faults_off", "faults off")
    label = "fault on: " + ", ".join(f"{k}={v}" for k, v in on.items())
    return Annotation(x, "fault_on", label if len(label) <= 48 else label[:47] + "…")


def _weight_label(value: object) -> str:
    weight = number(value)
    return f" at {weight:g} %" if weight is not None else ""


def canary_annotations(timeline: object, t0: float) -> list[Annotation]:
    """Faults switched on/off, rollbacks (done or skipped) and terminal canary phases."""
    found: list[Annotation] = []
    has_rollback = any(e["kind"] == "rollback" for e in events(timeline))
    kinds = ["fault", "rollback", "canary.rollback_skipped", "canary.phase"]
    for x, e in timed(timeline, kinds, t0):
        kind = e["kind"]
        if kind == "fault":
            found.append(_fault_annotation(x, e))
        elif kind == "rollback":
            found.append(Annotation(x, "rollback",
                                    "rollback" + _weight_label(e.get("weight_before"))))
        elif kind == "canary.rollback_skipped":
            weight = e.get("weight", e.get("weight_before"))
            found.append(Annotation(x, "rollback_skipped",
                                    "rollback skipped" + _weight_label(weight)))
        else:
            phase = str(e.get("phase", ""))
            if phase in _TERMINAL_PHASES:
                found.append(Annotation(x, phase, _TERMINAL_PHASES[phase]))
            elif phase == "rolled_back" and not has_rollback:
                found.append(Annotation(x, "rollback", "rolled back"))
    return found


@dataclass(frozen=True)
class FaultSpan:
    """One fault of :mod:`harness.faults` on the scenario's clock; ``end`` is None for a
    fault still on when the timeline ends (the run died inside it)."""

    label: str
    start: float
    end: float | None
    evidence: Mapping[str, Any] = field(default_factory=dict)


def fault_spans(timeline: object, t0: float) -> list[FaultSpan]:
    """Each fault's window from its ``fault`` events (``phase`` start and end)."""
    spans: list[FaultSpan] = []
    open_: dict[str, float] = {}
    for x, e in timed(timeline, ["fault"], t0):
        label = str(e.get("label", ""))
        if e.get("phase") == "start":
            open_[label] = x
        elif e.get("phase") == "end":
            started = number(e.get("started"))
            ended = number(e.get("ended"))
            start = started - t0 if started is not None else open_.get(label, x)
            open_.pop(label, None)
            evidence = {k: v for k, v in e.items()
                        if k not in ("ts", "kind", "phase", "label", "started", "ended")}
            spans.append(FaultSpan(label, start, ended - t0 if ended is not None else x,
                                   evidence))
    spans += [FaultSpan(label, x, None) for label, x in open_.items()]
    return sorted(spans, key=lambda span: span.start)


def fault_annotations(timeline: object, t0: float) -> list[Annotation]:
    """A line where each fault of :mod:`harness.faults` started and one where it healed
    (labelled as the canary plots label them)."""
    return [_fault_annotation(x, e) for x, e in timed(timeline, ["fault"], t0)
            if e.get("phase") in ("start", "end") and "label" in e]


# --- blue/green -----------------------------------------------------------------------


def record_counts(timeline: object, t0: float) -> dict[str, list[Point]]:
    """Record counts per table from ``sample`` events with ``series == "records"``."""
    counts: dict[str, list[Point]] = {}
    for x, e in timed(timeline, ["sample"], t0):
        value, table = number(e.get("value")), e.get("table")
        if e.get("series") == "records" and isinstance(table, str) and value is not None:
            counts.setdefault(table, []).append((x, value))
    return counts


def bluegreen_pairs(timeline: object) -> list[tuple[str, str]]:
    """(v1, v2) table pairs from the latest ``bluegreen.pairs`` event.

    Without one, every sampled ``<name>_v2`` whose ``<name>`` is sampled too is a pair.
    """
    declared: list[tuple[str, str]] | None = None
    for e in events(timeline):
        if e["kind"] == "bluegreen.pairs" and isinstance(e.get("pairs"), list | tuple):
            declared = [(p[0], p[1]) for p in e["pairs"]
                        if isinstance(p, list | tuple) and len(p) == 2
                        and all(isinstance(name, str) for name in p)]
    if declared is not None:
        return declared
    tables = {str(e.get("table")) for e in events(timeline)
              if e["kind"] == "sample" and e.get("series") == "records"}
    return [(t[:-3], t) for t in sorted(tables) if t.endswith("_v2") and t[:-3] in tables]


def latest_at(points: Sequence[Point], x: float) -> float | None:
    """The value of the latest point at or before ``x`` (points sorted by x)."""
    index = bisect.bisect_right([px for px, _ in points], x)
    return points[index - 1][1] if index else None


def lags(timeline: object, t0: float) -> dict[tuple[str, str], list[Point]]:
    """Rows v2 is behind v1, per pair, at every sample time of either table.

    At each time the latest sample of each table at or before it is used; times before
    both tables have a sample are left out.
    """
    counts = record_counts(timeline, t0)
    result: dict[tuple[str, str], list[Point]] = {}
    for v1, v2 in bluegreen_pairs(timeline):
        old, new = counts.get(v1, []), counts.get(v2, [])
        points: list[Point] = []
        for x in sorted({px for px, _ in old} | {px for px, _ in new}):
            a, b = latest_at(old, x), latest_at(new, x)
            if a is not None and b is not None:
                points.append((x, a - b))
        result[(v1, v2)] = points
    return result
