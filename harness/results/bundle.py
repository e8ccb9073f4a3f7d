"""Incident bundles: what a scenario run needs to be re-run, and what it concluded.

A bundle is the directory a scenario run writes (``bundle.json``, ``timeline.jsonl``,
``inputs/``). ``bundle.json`` holds the seeds, the fault schedule, the resolved settings,
the versions of the pipeline and policy inputs, and, once the run ends, its outcome.
Replaying compares *conclusions*, not timings: the scenario outcome, every check's
verdict, and the sequence of deployment decisions (phase changes with their weights,
promotions, rollbacks). How many PASS samples a step took varies from run to run, so
individual analysis ticks are not compared; the decisions they led to are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.atomic import write_json_atomic
from harness.errors import CutoverError

FORMAT = 1
MANIFEST = "bundle.json"
TIMELINE = "timeline.jsonl"

# Events that are decisions of the deployment under test (besides canary phase changes).
DECISION_KINDS = ("canary.rollback_skipped", "rollback", "promoted", "rolled_back",
                  "version_promoted", "consumers_switched", "statement_failed")


class BundleError(CutoverError):
    """A bundle cannot be read or replayed."""


@dataclass
class Bundle:
    """A bundle on disk: its manifest and its timeline."""

    path: Path
    manifest: dict[str, Any]
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def nodeid(self) -> str:
        return str(self.manifest["base_nodeid"])

    @property
    def outcome(self) -> str:
        return str(self.manifest.get("outcome", "unknown"))


def write_manifest(directory: Path, manifest: dict[str, Any]) -> Path:
    """Write ``bundle.json`` atomically (a crash leaves the previous version whole)."""
    path = directory / MANIFEST
    write_json_atomic(path, {"format": FORMAT, **manifest}, default=str)
    return path


def read_timeline(path: Path) -> list[dict[str, Any]]:
    """The events of a JSONL timeline; a line cut short by a crash is skipped."""
    events: list[dict[str, Any]] = []
    if not path.exists():
        return events
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # the last line of a crashed run may be partial
    return events


def load_bundle(path: Path) -> Bundle:
    """Read the bundle in directory ``path`` (or the ``bundle.json`` at ``path``).

    Raises:
        BundleError: Not a bundle, unreadable, or written by an unknown format.
    """
    directory = path.parent if path.name == MANIFEST else path
    manifest_path = directory / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise BundleError(f"{directory} is not an incident bundle (no {MANIFEST}); bundles "
                          "are the scenario folders under cutover-results/<run>/scenarios/"
                          ) from None
    except ValueError as exc:
        raise BundleError(f"{manifest_path} is not valid JSON ({exc})") from exc
    if manifest.get("format") != FORMAT or "base_nodeid" not in manifest:
        raise BundleError(f"{manifest_path} has format {manifest.get('format')!r}; this "
                          f"cutover reads format {FORMAT}: replay it with the cutover "
                          "version that wrote it")
    return Bundle(directory, manifest, read_timeline(directory / TIMELINE))


def decisions(timeline: list[dict[str, Any]]) -> list[str]:
    """The deployment decisions of a timeline, in order, as comparable strings.

    The end of a rollback or promotion is named with the weight at which it was decided
    ("canary rolled_back at 10 %"), not the weight after it (0 %)."""
    out = []
    decided_at = None
    for event in timeline:
        kind = event.get("kind", "")
        if kind == "canary.phase":
            phase, weight = event.get("phase"), event.get("weight")
            if phase in ("rolling_back", "promoting"):
                decided_at = weight
            elif phase in ("rolled_back", "promoted") and decided_at is not None:
                weight = decided_at
            out.append(f"canary {phase} at {weight} %")
        elif kind in DECISION_KINDS:
            subject = event.get("table") or event.get("statement") or event.get("version")
            out.append(f"{kind} {subject}" if subject else kind)
    return out


def verdicts(timeline: list[dict[str, Any]]) -> list[str]:
    """The analysis verdicts that changed a phase: the last verdict before each decision
    of the canary controller (a step's passes, a failure that rolled back or halted)."""
    out, last = [], None
    for event in timeline:
        if event.get("kind") == "canary.analysis":
            last = f"{event.get('verdict')} at {event.get('weight')} %"
        elif event.get("kind") == "canary.phase" and last is not None:
            out.append(last)
            last = None
    return out


def check_outcomes(manifest: dict[str, Any]) -> dict[str, bool]:
    return {c["name"]: bool(c["ok"]) for c in manifest.get("checks", [])}


@dataclass(frozen=True)
class Comparison:
    """Whether a replay concluded what the original run concluded, and where not."""

    same: bool
    differences: list[str]
    original: dict[str, Any]
    replay: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"reproduced": self.same, "differences": self.differences,
                "original": self.original, "replay": self.replay}


def conclusions(bundle: Bundle) -> dict[str, Any]:
    return {"outcome": bundle.outcome, "checks": check_outcomes(bundle.manifest),
            "decisions": decisions(bundle.timeline), "verdicts": verdicts(bundle.timeline)}


def compare(original: Bundle, replay: Bundle) -> Comparison:
    """Compare the conclusions of two runs of the same scenario."""
    first, second = conclusions(original), conclusions(replay)
    differences = []
    if first["outcome"] != second["outcome"]:
        differences.append(f"outcome: {first['outcome']} then {second['outcome']}")
    for name in sorted(set(first["checks"]) | set(second["checks"])):
        was, now = first["checks"].get(name), second["checks"].get(name)
        if was != now:
            differences.append(f"check {name}: {_ok(was)} then {_ok(now)}")
    for key in ("decisions", "verdicts"):
        if first[key] != second[key]:
            differences.append(f"{key}: {first[key]} then {second[key]}")
    return Comparison(not differences, differences, first, second)


def _ok(value: bool | None) -> str:
    return "absent" if value is None else ("passed" if value else "FAILED")
