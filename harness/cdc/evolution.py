"""Schema evolution of a CDC source, checked by the registry before anything is deployed.

The step: set the value subject's rule (FULL_TRANSITIVE), alter the source table, write
rows that carry the new column, then wait for one of two real outcomes. Either the
registry accepted the new schema (a new version under the subject), or the registry
refused it, and the connector's task failed with the registry's rule violation. A refusal
raises :class:`SchemaEvolutionRejected`, so whatever would deploy v2 never runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.cdc.connect import ConnectClient, ConnectError
from harness.cdc.registry import SchemaRegistryClient
from harness.errors import CutoverError
from harness.events import EventLog
from harness.wait import wait_until


class SchemaEvolutionRejected(CutoverError):
    """The registry refused the new source schema under the subject's compatibility rule."""


@dataclass(frozen=True)
class SchemaChange:
    """An accepted change: the subject, its rule and its versions before and after."""

    subject: str
    compatibility: str
    versions_before: list[int]
    versions_after: list[int]


def evolve_source(*, alter: Callable[[], None], write_rows: Callable[[], None],
                  registry: SchemaRegistryClient, subject: str, connect: ConnectClient,
                  connector: str, events: EventLog, compatibility: str = "FULL_TRANSITIVE",
                  timeout_s: float = 60.0) -> SchemaChange:
    """Apply ``alter`` and ``write_rows`` to the source; return once the registry has
    accepted the new value schema, or raise SchemaEvolutionRejected."""
    registry.set_compatibility(subject, compatibility)
    before = registry.versions(subject)
    events.emit("schema_evolution_started", subject=subject, compatibility=compatibility,
                versions=before)
    alter()
    write_rows()

    def outcome() -> str | None:
        try:
            connect.state(connector)
        except ConnectError as exc:
            if "task failed" not in str(exc):  # a worker rejoining after a restart
                return f"connector not answering yet ({exc})"
            events.emit("schema_evolution_rejected", subject=subject, reason=str(exc))
            raise SchemaEvolutionRejected(
                f"the registry refused the new schema of {subject} under {compatibility}, "
                f"so nothing was deployed: {exc}. Make the change {compatibility}-compatible "
                "(add columns with defaults; never drop or retype a column)") from None
        after = registry.versions(subject)
        return None if len(after) > len(before) else f"versions still {after}"

    wait_until(outcome, timeout_s=timeout_s, what=f"a new version of {subject}",
               interval_s=0.3)
    change = SchemaChange(subject, registry.compatibility(subject), before,
                          registry.versions(subject))
    events.emit("schema_evolution_accepted", subject=subject,
                versions=change.versions_after, compatibility=change.compatibility)
    return change
