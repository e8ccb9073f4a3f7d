"""Feature flags a canary is steered by, in a JSON file both the service and controller read.

The seed keeps four flags in Azure App Configuration; cutover keeps them in one JSON file
under the field names below, written atomically (a temporary file beside it, then
``os.replace``) so a reader never sees half a file:

============================= ============================================
field                         seed key
============================= ============================================
``canary_enabled``            ``feature.canary-enabled``
``canary_version``            ``feature.canary-version``
``canary_traffic_percentage`` ``deployment.canary-traffic-percentage``
``auto_promotion_enabled``    ``deployment.canary-auto-promotion-enabled``
============================= ============================================

A missing file reads as the defaults (canary off, 0 %, auto-promotion off). Writers are
expected to be one at a time (the canary controller, or an operator between runs):
``update`` is read-modify-write, atomic per file but not locked across processes.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atomic import write_json_atomic
from harness.errors import CutoverError

SEED_KEYS: dict[str, str] = {
    "canary_enabled": "feature.canary-enabled",
    "canary_version": "feature.canary-version",
    "canary_traffic_percentage": "deployment.canary-traffic-percentage",
    "auto_promotion_enabled": "deployment.canary-auto-promotion-enabled",
}


class FlagsError(CutoverError):
    """The flags file cannot be read, or a change to it is not valid."""


@dataclass(frozen=True)
class Flags:
    """One reading of the feature flags.

    Attributes:
        canary_enabled: ``feature.canary-enabled``: the canary version may serve traffic.
        canary_version: ``feature.canary-version``: the version the canary runs.
        canary_traffic_percentage: ``deployment.canary-traffic-percentage``, 0..100.
        auto_promotion_enabled: ``deployment.canary-auto-promotion-enabled``.
    """

    canary_enabled: bool = False
    canary_version: str = ""
    canary_traffic_percentage: int = 0
    auto_promotion_enabled: bool = False

    def __post_init__(self) -> None:
        problems = _problems(dataclasses.asdict(self))
        if problems:
            raise FlagsError("; ".join(problems))

    def to_seed(self) -> dict[str, str]:
        """The flags as the seed's App Configuration keys and string values."""
        values = {name: json.dumps(value) if not isinstance(value, str) else value
                  for name, value in dataclasses.asdict(self).items()}
        return {SEED_KEYS[name]: value for name, value in values.items()}


_TYPES: dict[str, type] = {"canary_enabled": bool, "canary_version": str,
                           "canary_traffic_percentage": int,
                           "auto_promotion_enabled": bool}


def _problems(values: dict[str, Any]) -> list[str]:
    """Why ``values`` are not valid flags; empty when they are."""
    problems = []
    for name, value in values.items():
        expected = _TYPES.get(name)
        if expected is None:
            problems.append(f"unknown flag {name!r}; known flags: {', '.join(_TYPES)}")
        elif type(value) is not expected:  # bool is an int subclass: compare exactly
            problems.append(f"flag {name} must be {expected.__name__}, not {value!r}")
    percentage = values.get("canary_traffic_percentage", 0)
    if type(percentage) is int and not 0 <= percentage <= 100:
        problems.append(f"canary_traffic_percentage must be within 0..100, not {percentage}")
    return problems


class FeatureFlags:
    """The flags file: ``read`` it from anywhere, ``update`` it from one writer at a time."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> Flags:
        """The current flags; the defaults when the file does not exist yet.

        Raises:
            FlagsError: The file is not JSON, or holds unknown flags or wrong types.
        """
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return Flags()
        fix = f"fix or delete {self.path} (a missing file means every flag at its default)"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FlagsError(f"flags file {self.path} is not JSON ({exc}); {fix}") from exc
        if not isinstance(data, dict):
            raise FlagsError(f"flags file {self.path} must hold a JSON object; {fix}")
        problems = _problems(data)
        if problems:
            raise FlagsError(f"flags file {self.path}: {'; '.join(problems)}; {fix}")
        return Flags(**data)

    def update(self, **changes: Any) -> Flags:
        """Change some flags, keep the rest, and write the file atomically.

        Args:
            **changes: Flag names (the ``Flags`` fields) and their new values.

        Returns:
            The flags as written.

        Raises:
            FlagsError: A name is unknown or a value has the wrong type or range.
        """
        problems = _problems(changes)
        if problems:
            raise FlagsError("; ".join(problems))
        flags = dataclasses.replace(self.read(), **changes)
        write_json_atomic(self.path, dataclasses.asdict(flags))
        return flags
