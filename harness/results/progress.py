"""One terminal line for the events people follow live; None for the rest.

Only decisions and their evidence make it to the terminal (deploys, weight changes,
verdicts, faults, checks); everything else stays in the timeline, so pytest's own output
is not drowned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.events import Event


def progress_line(event: Event) -> str | None:
    """A short line for ``event``, or None when it is not worth a line."""
    d, kind = event.details, event.kind
    formatter = _FORMATTERS.get(kind)
    return formatter(d) if formatter else None


def _num(value: Any, unit: str = "") -> str:
    return f"{value:.3g}{unit}" if isinstance(value, (int, float)) else "n/a"


def _analysis(d: dict[str, Any]) -> str:
    v = d.get("values", {})
    return (f"canary {d.get('weight')} %: {str(d.get('verdict', '?')).upper()} "
            f"(errors {_num(v.get('canary_error_rate_pct'), ' %')} vs "
            f"{_num(v.get('stable_error_rate_pct'), ' %')}, p95 "
            f"{_num(v.get('canary_p95_ms'), ' ms')} vs {_num(v.get('stable_p95_ms'), ' ms')})")


def _check(d: dict[str, Any]) -> str:
    return f"check {d.get('name')}: {'ok' if d.get('ok') else 'FAILED'} ({d.get('summary')})"


def _fault(d: dict[str, Any]) -> str:
    if "label" in d:  # a harness.faults fault: its start, then its end with evidence
        if d.get("phase") == "start":
            return f"fault {d['label']}: on"
        evidence = {k: v for k, v in d.items()
                    if k not in ("phase", "label", "started", "ended", "held_s")}
        return f"fault {d['label']}: healed after {d.get('held_s')} s {evidence}"
    switches = {k: v for k, v in d.items() if k != "slot"}
    return f"fault on {d.get('slot', '?')}: {switches}"


_FORMATTERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "canary.analysis": _analysis,
    "canary.phase": lambda d: f"canary -> {d.get('phase')} at {d.get('weight')} %",
    "canary.metrics_error": lambda d: f"metrics query failed ({d.get('failed_queries')} in a "
                                      f"row): {d.get('error')}",
    "check": _check,
    "fault": _fault,
    "plan": lambda d: f"plan: redeploy {[r.get('new_name') for r in d.get('redeploy', [])]}",
    "statement_running": lambda d: f"running {d.get('statement')}",
    "statement_failed": lambda d: f"statement {d.get('statement')} FAILED: {d.get('error')}",
    "promoted": lambda d: f"promoted: {d.get('active')}",
    "rolled_back": lambda d: f"rolled back; dropped {d.get('dropped_topics')}",
    "version_deployed": lambda d: f"deployed {d.get('version')} as {d.get('slot')}",
    "version_promoted": lambda d: f"promoted {d.get('version')} to stable",
    "schema_evolution_accepted": lambda d: f"schema of {d.get('subject')} evolved",
    "schema_evolution_rejected": lambda d: f"schema change of {d.get('subject')} refused: "
                                           f"{d.get('reason')}",
}
