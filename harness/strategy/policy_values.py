"""The values behind a canary policy: reading the YAML, durations, types and ranges,
each problem reported like a linter finding (:class:`PolicyIssue`), all at once."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import CutoverError


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


def lookup(data: Mapping[Any, Any], key: str) -> object:
    node: object = data
    for part in key.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def convert(value: object, kind: str, path: str) -> object:
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


def increment_issues(increments: Sequence[int], path: str) -> list[PolicyIssue]:
    fix = "list whole percentages from 0 to 100, each larger than the last"
    if len(increments) < 2 or increments[0] != 0 or increments[-1] != 100:
        return [PolicyIssue(path, f"{list(increments)} must start at 0 and end at 100", fix)]
    if any(b <= a for a, b in itertools.pairwise(increments)):
        return [PolicyIssue(path, f"{list(increments)} is not strictly increasing", fix)]
    return []


def range_issues(values: Mapping[str, Any], path: Callable[[str], str]) -> list[PolicyIssue]:
    """Checks across fields; ``path(field)`` is the key path an issue names."""
    issues = increment_issues(values["increments"], path("increments"))
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
    return issues + threshold_issues(values, path)


def threshold_issues(values: Mapping[str, Any],
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
        f"{path('promote_error_rate_pct')}")]


def read_text(path_or_text: str | Path) -> str:
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


def parse_yaml(text: str) -> object:
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


def canary_section(document: object, root: str) -> Mapping[Any, Any]:
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


