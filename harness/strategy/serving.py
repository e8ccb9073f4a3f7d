"""Which version of each logical table consumers read: a file, not a dict in memory.

Promotion of a blue/green run is only real if a consumer can see it. The serving map is
a small JSON file that a consumer (the data tier, a query engine's view definitions, a
script) reads to know which physical table serves a logical one::

    {"tables": {"int_orders": "int_orders_v2", ...},
     "topics": {"int_orders": "<prefix>int_orders_v2", ...},
     "history": [{"ts": ..., "table": ..., "from": ..., "to": ..., "reason": ...}]}

It is replaced atomically on every switch, so a reader sees the old map or the new one,
and it survives the process that wrote it, so a crashed run can be cleaned up or resumed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.atomic import write_json_atomic
from harness.errors import CutoverError


class ServingMapError(CutoverError):
    """The serving map file cannot be read."""


class ServingMap:
    """The serving map at ``path``; a missing file is an empty map."""

    def __init__(self, path: Path, *, topic_prefix: str = "") -> None:
        self.path = Path(path)
        self.topic_prefix = topic_prefix

    def read(self) -> dict[str, Any]:
        """The whole file as JSON (``tables``, ``topics``, ``history``)."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"tables": {}, "topics": {}, "history": []}
        except ValueError as exc:
            raise ServingMapError(f"serving map {self.path} is not JSON ({exc}); restore it "
                                  "from the run's timeline (consumers_switched events) or "
                                  "delete it to serve every table's first version") from exc
        if not isinstance(data, dict) or not isinstance(data.get("tables"), dict):
            raise ServingMapError(f"serving map {self.path} has no 'tables' object")
        return data

    def tables(self) -> dict[str, str]:
        """Logical table -> the physical table consumers read."""
        return dict(self.read()["tables"])

    def serving(self, table: str) -> str:
        """The physical table serving ``table`` (itself when never switched)."""
        return self.tables().get(table, table)

    def set(self, switches: Mapping[str, str], *, reason: str) -> None:
        """Point each logical table of ``switches`` at its new physical table, at once."""
        data = self.read()
        now = time.time()
        for table, physical in switches.items():
            old = data["tables"].get(table, table)
            data["tables"][table] = physical
            data.setdefault("topics", {})[table] = self.topic_prefix + physical
            data.setdefault("history", []).append(
                {"ts": now, "table": table, "from": old, "to": physical, "reason": reason})
        write_json_atomic(self.path, data)
