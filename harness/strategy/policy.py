"""The canary policy: traffic steps, promotion and rollback thresholds, and time compression.

The policy is read from the data tier's Helm values (``dataTier.canary``), the same file
the canary automation script upgrades. The values file carries the thresholds; the
script hard-codes the traffic steps (``TRAFFIC_INCREMENTS=(0 10 30 50 75 100)``) and the
wait per step (``STABILITY_PERIOD_MINUTES=15``). cutover reads those from its own
extension, ``dataTier.canary.cutover``, which Helm ignores::

    dataTier:
      canary:
        cutover:
          increments: [0, 10, 30, 50, 75, 100]
          stabilityPeriod: 15m
          compressionFactor: 60
          minSamples: 10
          analysisInterval: 10s

Time: a stabilization period is satisfied by a minimum number of samples and a minimum
duration scaled by a declared factor. Every real duration is divided by
``compression_factor``; the sampling interval is compressed too but never below
0.5 s; and no window is shorter than ``min_samples`` sampling intervals, so a verdict
never rests on fewer than ``min_samples`` samples. Results state the factor.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import CutoverError

ROOT = "dataTier.canary"
DEFAULT_INCREMENTS: tuple[int, ...] = (0, 10, 30, 50, 75, 100)
MIN_ANALYSIS_INTERVAL_S = 0.5
TIME_RULE = ("a stabilization period is satisfied by a minimum number of samples and a "
             "minimum duration scaled by a declared factor")


@dataclass(frozen=True)
class PolicyIssue:
    """One problem in a canary policy, reported like a linter finding.

    Attributes:
        key_path: The dotted key, e.g. ``dataTier.canary.rollback.enabled``; "" for the
            whole document.
        message: What is wrong.
        fix: How to make it right.
        line: 1-based line in the YAML text, when known.
        column: 1-based column in the YAML text, when known.
    """

    key_path: str
    message: str
    fix: str
    line: int | None = None
    column: int | None = None

    def location(self) -> str:
        """Where the issue is: ``line:column`` when known, else the key path."""
        if self.line is not None:
            return f"{self.line}:{self.column or 1}"
        return self.key_path or "(document)"


class PolicyError(CutoverError):
    """A canary policy cannot be used; carries every issue found, not just the first."""

    def __init__(self, issues: Sequence[PolicyIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(f"{i.location()}: {i.message}; fix: {i.fix}"
                                   for i in self.issues))


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object, key_path: str = "") -> float:
    """Seconds in a Go/Helm duration (``30m``, ``1h30m``, ``500ms``) or a number of seconds.

    Args:
        value: A duration string, or an int/float (seconds). Strings of digits alone
            (``"90"``) are seconds too.
        key_path: Named in the error.

    Returns:
        The duration in seconds, never negative.

    Raises:
        PolicyError: The value is not a duration.
    """
    fix = 'write it like "90s", "15m", "1h30m" or "500ms", or a number of seconds'
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PolicyError([PolicyIssue(key_path, f"{value!r} is not a duration", fix)])
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        value = float(value)
    if isinstance(value, int | float):
        if value < 0 or not math.isfinite(value):
            raise PolicyError([PolicyIssue(key_path, f"duration {value} is negative or "
                                           "not finite", fix)])
        return float(value)
    text, pos, total = value.strip(), 0, 0.0
    while text and pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            break
        total, pos = total + float(match[1]) * _UNIT_S[match[2]], match.end()
    if not text or pos < len(text):
        raise PolicyError([PolicyIssue(key_path, f"{value!r} is not a duration", fix)])
    return total


def format_duration(seconds: float) -> str:
    """A duration the way Helm values write it: ``900`` -> ``15m``, ``0.5`` -> ``500ms``."""
    millis = round(seconds * 1000)
    if millis < 1000:
        return f"{millis}ms"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "",
             f"{rest / 1000:g}s" if rest else ""]
    return "".join(parts)


@dataclass(frozen=True)
class CanaryPolicy:
    """How a canary advances, when it is promoted or rolled back, and how time is compressed.

    Thresholds and durations are the values file's; the compressed durations used by a
    run are the ``effective_*`` properties (see the module docstring for the rule).

    Attributes:
        enabled: ``dataTier.canary.enabled``.
        version: The canary image tag (``image.tag``); may be "".
        traffic_percentage: Initial canary traffic, 0..100.
        increments: Traffic steps in percent, strictly increasing from 0 to 100.
        stability_period_s: Real wait at each step (the script's 15 minutes).
        auto_promotion_enabled: ``autoPromotion.enabled``.
        promote_error_rate_pct: Promote only while the error rate stays below this.
        promote_error_duration_s: ...for this long.
        promote_latency_ms: Promote only while response time stays below this.
        promote_latency_duration_s: ...for this long.
        rollback_enabled: ``rollback.enabled``.
        rollback_error_rate_pct: Roll back when the error rate stays above this.
        rollback_error_duration_s: ...for this long.
        compression_factor: Real durations are divided by this (>= 1).
        min_samples: No window holds fewer samples than this (>= 1).
        analysis_interval_s: Real time between two metric samples.
    """

    enabled: bool = False
    version: str = ""
    traffic_percentage: int = 0
    increments: tuple[int, ...] = DEFAULT_INCREMENTS
    stability_period_s: float = 900.0
    auto_promotion_enabled: bool = False
    promote_error_rate_pct: float = 1.0
    promote_error_duration_s: float = 1800.0
    promote_latency_ms: float = 500.0
    promote_latency_duration_s: float = 1800.0
    rollback_enabled: bool = True
    rollback_error_rate_pct: float = 5.0
    rollback_error_duration_s: float = 300.0
    compression_factor: float = 1.0
    min_samples: int = 10
    analysis_interval_s: float = 10.0

    def __post_init__(self) -> None:
        issues = _range_issues(dataclasses.asdict(self), {})
        if issues:
            raise PolicyError(issues)

    @property
    def effective_analysis_interval_s(self) -> float:
        """Seconds between samples in a run: compressed, never below 0.5 s."""
        return max(self.analysis_interval_s / self.compression_factor,
                   MIN_ANALYSIS_INTERVAL_S)

    def effective(self, real_s: float) -> float:
        """A real window compressed, but never shorter than ``min_samples`` samples.

        Args:
            real_s: The window in real seconds.

        Returns:
            ``max(real_s / compression_factor, min_samples * effective interval)``.
        """
        return max(real_s / self.compression_factor,
                   self.min_samples * self.effective_analysis_interval_s)

    @property
    def effective_stability_period_s(self) -> float:
        """The wait at each traffic step in a run."""
        return self.effective(self.stability_period_s)

    @property
    def effective_promote_error_duration_s(self) -> float:
        """How long the error rate must stay below the promotion threshold in a run."""
        return self.effective(self.promote_error_duration_s)

    @property
    def effective_promote_latency_duration_s(self) -> float:
        """How long response time must stay below the promotion threshold in a run."""
        return self.effective(self.promote_latency_duration_s)

    @property
    def effective_rollback_error_duration_s(self) -> float:
        """How long the error rate must stay above the rollback threshold in a run."""
        return self.effective(self.rollback_error_duration_s)

    def windows(self) -> list[tuple[str, float, float]]:
        """Each timed window as ``(name, real seconds, effective seconds)``."""
        return [(name, real, self.effective(real)) for name, real in (
            ("stability_period_s", self.stability_period_s),
            ("promote_error_duration_s", self.promote_error_duration_s),
            ("promote_latency_duration_s", self.promote_latency_duration_s),
            ("rollback_error_duration_s", self.rollback_error_duration_s))]

    def to_json(self) -> dict[str, Any]:
        """Every resolved value, plus the compression rule and the effective durations."""
        data = dataclasses.asdict(self)
        data["increments"] = list(self.increments)
        data["effective"] = {name: eff for name, _, eff in self.windows()}
        data["effective"]["analysis_interval_s"] = self.effective_analysis_interval_s
        data["time_rule"] = TIME_RULE
        return data

    def render_text(self) -> str:
        """The policy as a table for people."""
        on = {True: "on", False: "off"}
        rows = [f"canary {'enabled' if self.enabled else 'disabled'}, version "
                f"{self.version or '(none)'}, initial traffic {self.traffic_percentage}%",
                f"increments      {' -> '.join(f'{i}%' for i in self.increments)}",
                f"time            compression x{self.compression_factor:g}, at least "
                f"{self.min_samples} samples every "
                f"{format_duration(self.effective_analysis_interval_s)} "
                f"(real {format_duration(self.analysis_interval_s)})",
                "",
                f"{'window':34} {'threshold':>10} {'real':>8} {'effective':>10}"]
        labels = {"stability_period_s": ("stability period per step", ""),
                  "promote_error_duration_s": (
                      f"promote ({on[self.auto_promotion_enabled]}): error rate <",
                      f"{self.promote_error_rate_pct:g}%"),
                  "promote_latency_duration_s": (
                      f"promote ({on[self.auto_promotion_enabled]}): latency <",
                      f"{self.promote_latency_ms:g}ms"),
                  "rollback_error_duration_s": (
                      f"rollback ({on[self.rollback_enabled]}): error rate >",
                      f"{self.rollback_error_rate_pct:g}%")}
        for name, real, eff in self.windows():
            label, threshold = labels[name]
            rows.append(f"{label:34} {threshold:>10} {format_duration(real):>8} "
                        f"{format_duration(eff):>10}")
        return "\n".join(rows)


# field -> (key below dataTier.canary, kind)
_FIELDS: dict[str, tuple[str, str]] = {
    "enabled": ("enabled", "bool"),
    "version": ("image.tag", "str"),
    "traffic_percentage": ("trafficPercentage", "int"),
    "auto_promotion_enabled": ("autoPromotion.enabled", "bool"),
    "promote_error_rate_pct": ("autoPromotion.metrics.errorRate.threshold", "number"),
    "promote_error_duration_s": ("autoPromotion.metrics.errorRate.duration", "duration"),
    "promote_latency_ms": ("autoPromotion.metrics.responseTime.thresholdMs", "number"),
    "promote_latency_duration_s": ("autoPromotion.metrics.responseTime.duration", "duration"),
    "rollback_enabled": ("rollback.enabled", "bool"),
    "rollback_error_rate_pct": ("rollback.metrics.errorRate.threshold", "number"),
    "rollback_error_duration_s": ("rollback.metrics.errorRate.duration", "duration"),
    "increments": ("cutover.increments", "increments"),
    "stability_period_s": ("cutover.stabilityPeriod", "duration"),
    "compression_factor": ("cutover.compressionFactor", "number"),
    "min_samples": ("cutover.minSamples", "int"),
    "analysis_interval_s": ("cutover.analysisInterval", "duration"),
}
# Keys the chart uses that the policy does not read; typos of them are still reported.
_OTHER_KEYS = ("replicaCount", "resources", "image.repository", "image.pullPolicy",
               "image.digest", "cutover.metrics")  # cutover.metrics: analysis.templates
_OPAQUE = {"resources"}  # anything may sit below these


def _key_path(field: str) -> str:
    return f"{ROOT}.{_FIELDS[field][0]}"


def _schema() -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key in [key for key, _ in _FIELDS.values()] + list(_OTHER_KEYS):
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = None
    return tree


def _typo_issues(data: Mapping[Any, Any], schema: Mapping[str, Any],
                 prefix: str) -> list[PolicyIssue]:
    """Unknown keys that look like misspelt known ones, and branches that are not maps."""
    issues = []
    for raw_key, value in data.items():
        key, path = str(raw_key), f"{prefix}.{raw_key}"
        if key in schema:
            child = schema[key]
            if isinstance(child, dict) and key not in _OPAQUE:
                if isinstance(value, Mapping):
                    issues += _typo_issues(value, child, path)
                elif value is not None:
                    issues.append(PolicyIssue(path, f"must be a mapping, not {value!r}",
                                              f"indent the keys of {key} under it"))
            continue
        close = difflib.get_close_matches(key, list(schema), n=1, cutoff=0.8)
        if close:
            issues.append(PolicyIssue(
                path, f"unknown key {key!r}; did you mean {close[0]!r}?",
                f"rename it to {close[0]} (Helm ignores unknown keys, so the "
                "default applies silently)"))
    return issues


def _lookup(data: Mapping[Any, Any], key: str) -> object:
    node: object = data
    for part in key.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _convert(value: object, kind: str, path: str) -> object:
    """The value as the field's type; raises PolicyError naming ``path``."""
    def wrong(expected: str, fix: str) -> PolicyError:
        return PolicyError([PolicyIssue(path, f"must be {expected}, not {value!r}", fix)])

    if kind == "duration":
        return parse_duration(value, path)
    if kind == "bool":
        if not isinstance(value, bool):
            raise wrong("true or false", "write true or false (unquoted)")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise wrong("a string", f'quote it: "{value}" (YAML reads 1.10 as 1.1)')
        return value
    if kind == "increments":
        if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise wrong("a list of whole percentages", "write e.g. [0, 10, 30, 50, 75, 100]")
        return tuple(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong("a number", "write a plain number without quotes or units")
    if kind == "int" and not isinstance(value, int):
        raise wrong("a whole number", f"round it, e.g. {round(value)}")
    return value if kind == "int" else float(value)


def _increment_issues(increments: Sequence[int], path: str) -> list[PolicyIssue]:
    fix = "list whole percentages from 0 to 100, each larger than the last"
    if len(increments) < 2 or increments[0] != 0 or increments[-1] != 100:
        return [PolicyIssue(path, f"{list(increments)} must start at 0 and end at 100", fix)]
    if any(b <= a for a, b in itertools.pairwise(increments)):
        return [PolicyIssue(path, f"{list(increments)} is not strictly increasing", fix)]
    return []


def _range_issues(values: Mapping[str, Any], paths: Mapping[str, str]) -> list[PolicyIssue]:
    """Checks across fields; ``paths`` overrides the key path named for a field."""
    def path(field: str) -> str:
        return paths.get(field, _key_path(field))

    issues = _increment_issues(values["increments"], path("increments"))
    traffic = values["traffic_percentage"]
    if not 0 <= traffic <= 100:
        issues.append(PolicyIssue(path("traffic_percentage"), f"{traffic} is outside 0..100",
                                  f"use one of the increments {list(values['increments'])}"))
    for field in ("promote_error_rate_pct", "rollback_error_rate_pct"):
        if not 0 <= values[field] <= 100:
            issues.append(PolicyIssue(path(field), f"{values[field]} is not a percentage",
                                      "use a number from 0 to 100"))
    if values["promote_latency_ms"] <= 0:
        issues.append(PolicyIssue(path("promote_latency_ms"), "must be above 0",
                                  "use a response time in milliseconds, e.g. 500"))
    for field in ("stability_period_s", "promote_error_duration_s",
                  "promote_latency_duration_s", "rollback_error_duration_s"):
        if values[field] < 0:
            issues.append(PolicyIssue(path(field), f"{values[field]} s is negative",
                                      'use a duration such as "15m"'))
    if values["analysis_interval_s"] <= 0:
        issues.append(PolicyIssue(path("analysis_interval_s"), "must be above 0",
                                  'use e.g. "10s"'))
    if values["compression_factor"] < 1:
        issues.append(PolicyIssue(path("compression_factor"),
                                  f"{values['compression_factor']} is below 1",
                                  "use 1 for real time, or a larger factor to compress"))
    if values["min_samples"] < 1:
        issues.append(PolicyIssue(path("min_samples"), f"{values['min_samples']} is below 1",
                                  "use at least 1 (10 by default)"))
    return issues + _threshold_issues(values, path)


def _threshold_issues(values: Mapping[str, Any],
                      path: Callable[[str], str]) -> list[PolicyIssue]:
    promote, rollback = values["promote_error_rate_pct"], values["rollback_error_rate_pct"]
    if not values["rollback_enabled"] or rollback > promote or not (
            0 <= rollback <= 100 and 0 <= promote <= 100):  # range issues already said
        return []
    return [PolicyIssue(
        path("rollback_error_rate_pct"),
        f"rollback threshold {rollback:g}% is not above the promotion threshold "
        f"{promote:g}%: an error rate of {rollback:g}..{promote:g}% would both count as "
        "healthy for promotion and trigger a rollback, so the verdict contradicts itself",
        f"raise it above {promote:g} (the seed uses 5.0 against 1.0), or lower "
        f"{_key_path('promote_error_rate_pct')}")]


def _read_text(path_or_text: str | Path) -> str:
    is_path = isinstance(path_or_text, Path) or (
        "\n" not in path_or_text
        and (Path(path_or_text).suffix in (".yaml", ".yml") or Path(path_or_text).is_file()))
    if not is_path:
        return str(path_or_text)
    try:
        return Path(path_or_text).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([PolicyIssue("", f"cannot read {path_or_text}: {exc.strerror}",
                                       "give the path of a Helm values file")]) from exc


def _parse_yaml(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
        raise PolicyError([PolicyIssue(
            "", message, "fix the YAML syntax at that line (indentation, quotes, colons)",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None)]) from exc


def _canary_section(document: object, root: str = ROOT) -> Mapping[Any, Any]:
    node: object = document
    path = ""
    for part in root.split("."):
        path = f"{path}.{part}" if path else part
        node = node.get(part) if isinstance(node, Mapping) else None
        if not isinstance(node, Mapping):
            raise PolicyError([PolicyIssue(
                path, "missing" if node is None else f"must be a mapping, not {node!r}",
                f"put the canary settings under {root}, or name the key that holds them "
                "(--values-root; see fixtures/policies/data-tier-values.yaml)")])
    return node  # type: ignore[return-value]  # every step above checked Mapping


def load_policy(path_or_text: str | Path, *, increments: Sequence[int] | None = None,
                stability_period_s: float | None = None,
                compression_factor: float | None = None,
                min_samples: int | None = None, root: str = ROOT) -> CanaryPolicy:
    """Read a canary policy from Helm values, reporting every problem at once.

    Args:
        path_or_text: A values file (``Path``, or a ``str`` naming an existing or
            ``.yaml``/``.yml`` file), or the YAML text itself.
        increments: Overrides ``cutover.increments``.
        stability_period_s: Overrides ``cutover.stabilityPeriod``.
        compression_factor: Overrides ``cutover.compressionFactor``.
        min_samples: Overrides ``cutover.minSamples``.
        root: Dotted key of the canary settings in the values file (each service's
            chart names its own, e.g. ``mysvc.rollout``).

    Returns:
        The resolved policy; missing keys take the values file's defaults.

    Raises:
        PolicyError: Unreadable file, invalid YAML, nothing at ``root``, or any
            issue in it; each issue names its dotted key path and a fix.
    """
    if not root or any(not part for part in root.split(".")):
        raise PolicyError([PolicyIssue("", f"values root {root!r} is not a dotted key",
                                       "give the key holding the canary settings, e.g. "
                                       f"{ROOT}")])
    canary = _canary_section(_parse_yaml(_read_text(path_or_text)), root)
    issues = _typo_issues(canary, _schema(), ROOT)
    values: dict[str, Any] = dataclasses.asdict(CanaryPolicy())
    for field, (key, kind) in _FIELDS.items():
        raw = _lookup(canary, key)
        if raw is None:
            continue
        try:
            values[field] = _convert(raw, kind, _key_path(field))
        except PolicyError as exc:
            issues += exc.issues
    overrides = {"increments": None if increments is None else tuple(increments),
                 "stability_period_s": stability_period_s,
                 "compression_factor": compression_factor, "min_samples": min_samples}
    given = {field: value for field, value in overrides.items() if value is not None}
    values.update(given)
    issues += _range_issues(values, {field: f"{field} (argument)" for field in given})
    if issues:
        raise PolicyError([_rooted(issue, root) for issue in issues])
    return CanaryPolicy(**values)


def _rooted(issue: PolicyIssue, root: str) -> PolicyIssue:
    """The issue with its key path under ``root`` instead of the default root."""
    if root == ROOT or not issue.key_path.startswith(ROOT):
        return issue
    return dataclasses.replace(issue, key_path=root + issue.key_path[len(ROOT):])
