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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.strategy.policy_values import (
    PolicyError,
    PolicyIssue,
    canary_section,
    convert,
    format_duration,
    lookup,
    parse_duration,
    parse_yaml,
    range_issues,
    read_text,
)

__all__ = ["DEFAULT_INCREMENTS", "ROOT", "CanaryPolicy", "PolicyError", "PolicyIssue",
           "format_duration", "load_policy", "parse_duration"]

ROOT = "dataTier.canary"
DEFAULT_INCREMENTS: tuple[int, ...] = (0, 10, 30, 50, 75, 100)
MIN_ANALYSIS_INTERVAL_S = 0.5
TIME_RULE = ("a stabilization period is satisfied by a minimum number of samples and a "
             "minimum duration scaled by a declared factor")


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
        issues = range_issues(dataclasses.asdict(self), _key_path)
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
    canary = canary_section(parse_yaml(read_text(path_or_text)), root)
    issues = _typo_issues(canary, _schema(), ROOT)
    values: dict[str, Any] = dataclasses.asdict(CanaryPolicy())
    for field, (key, kind) in _FIELDS.items():
        raw = lookup(canary, key)
        if raw is None:
            continue
        try:
            values[field] = convert(raw, kind, _key_path(field))
        except PolicyError as exc:
            issues += exc.issues
    overrides = {"increments": None if increments is None else tuple(increments),
                 "stability_period_s": stability_period_s,
                 "compression_factor": compression_factor, "min_samples": min_samples}
    given = {field: value for field, value in overrides.items() if value is not None}
    values.update(given)
    issues += range_issues(values, lambda field: f"{field} (argument)" if field in given
                           else _key_path(field))
    if issues:
        raise PolicyError([_rooted(issue, root) for issue in issues])
    return CanaryPolicy(**values)


def _rooted(issue: PolicyIssue, root: str) -> PolicyIssue:
    """The issue with its key path under ``root`` instead of the default root."""
    if root == ROOT or not issue.key_path.startswith(ROOT):
        return issue
    return dataclasses.replace(issue, key_path=root + issue.key_path[len(ROOT):])
