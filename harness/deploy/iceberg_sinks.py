"""Iceberg sinks of a product's tables, as the runbook's sink connectors materialize them.

For each chosen table (v1, and v2 of a redeployed one) a statement ``sink_<table>`` copies
the Kafka table into an Iceberg table of the stack's catalog, in the run's namespace
database, with upsert semantics (format v2, ``write.upsert.enabled``, the table's primary
key as identifier fields): what query engines read.

Settled means committed: the Iceberg Flink committer commits a checkpoint's files after
the checkpoint completes, so a verdict waits until each sink table's current snapshot
records (``flink.max-committed-checkpoint-id``) a checkpoint that completed after its
statement caught up. The tables set ``flink.max-continuous-empty-commits`` to 1, so every
checkpoint commits, even one with no new files, and the wait never depends on new data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyiceberg.catalog.sql import SqlCatalog

from harness.data.schema import columns_from_ddl, primary_key_from_ddl
from harness.errors import CutoverError
from harness.iceberg import merge_on_read
from harness.stack.endpoint import IcebergEndpoint
from harness.wait import wait_until

COMMITTED = "flink.max-committed-checkpoint-id"


class IcebergSinkError(CutoverError):
    """An Iceberg sink cannot be created or has not committed in time."""


class IcebergSinks:
    """Where the sink tables live: the stack's catalog and the namespace's database.

    One pyiceberg catalog is opened on first use and kept until :meth:`close`.
    """

    def __init__(self, endpoint: IcebergEndpoint, database: str) -> None:
        self.endpoint, self.database = endpoint, database
        self._catalog: SqlCatalog | None = None

    def catalog(self) -> SqlCatalog:
        if self._catalog is None:
            self._catalog = SqlCatalog(self.endpoint.catalog, uri=self.endpoint.sqlalchemy_uri,
                                       warehouse=self.endpoint.warehouse)
        return self._catalog

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.engine.dispose()
            self._catalog = None

    @staticmethod
    def statement(table: str) -> str:
        """The name of the statement that fills ``table``'s Iceberg sink."""
        return f"sink_{table}"

    def flink_table(self, table: str) -> str:
        return f"`{self.endpoint.catalog}`.`{self.database}`.`{table}`"

    def identifier(self, table: str) -> str:
        return f"{self.database}.{table}"

    def create_sql(self, table: str, ddl: str) -> str:
        """CREATE TABLE of the Iceberg sink of ``table`` (whose Kafka DDL is ``ddl``)."""
        key = primary_key_from_ddl(ddl)
        if not key:
            raise IcebergSinkError(f"table {table!r} has no PRIMARY KEY, so an Iceberg upsert "
                                   "sink has no identifier fields; give it one or leave it "
                                   "out of --iceberg-sinks")
        columns = ", ".join(f"`{c.name}` {c.type}" for c in columns_from_ddl(ddl))
        keys = ", ".join(f"`{k}`" for k in key)
        return (f"CREATE TABLE IF NOT EXISTS {self.flink_table(table)} ({columns}, "
                f"PRIMARY KEY ({keys}) NOT ENFORCED) WITH ('format-version' = '2', "
                "'write.upsert.enabled' = 'true', 'flink.max-continuous-empty-commits' = '1')")

    def insert_sql(self, table: str, ddl: str) -> str:
        columns = ", ".join(f"`{c.name}`" for c in columns_from_ddl(ddl))
        return f"INSERT INTO {self.flink_table(table)} SELECT {columns} FROM `{table}`"

    @classmethod
    def checkpoints_to_commit(cls, jobs: Mapping[str, str],
                              proven: Callable[[str], int]) -> dict[str, int]:
        """Sink table -> the checkpoint its statement must have committed: for every
        ``sink_<table>`` statement of ``jobs`` (name -> job id), the checkpoint that
        proved it settled (``proven(job_id)``, e.g. :meth:`Settler.proven_checkpoint`)."""
        prefix = cls.statement("")
        return {name.removeprefix(prefix): proven(job) for name, job in jobs.items()
                if name.startswith(prefix)}

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Live rows of ``table``'s sink (position and equality deletes applied)."""
        table_ = self.catalog().load_table(self.identifier(table))
        return list(merge_on_read(table_).to_pylist())

    def committed(self, table: str) -> int:
        """The newest checkpoint id the sink table's snapshots record (-1 for none)."""
        snapshot = self.catalog().load_table(self.identifier(table)).current_snapshot()
        if snapshot is None or snapshot.summary is None:
            return -1
        return int(snapshot.summary.get(COMMITTED) or -1)

    def drop(self, tables: Iterable[str]) -> list[str]:
        """Drop the sink tables that exist; returns their identifiers."""
        dropped = []
        for table in tables:
            identifier = self.identifier(table)
            if self.catalog().table_exists(identifier):
                self.catalog().drop_table(identifier)
                dropped.append(identifier)
        return dropped

    def wait_committed(self, checkpoints: dict[str, int], *, timeout_s: float = 30.0) -> float:
        """Wait until every sink table recorded at least its checkpoint id.

        Args:
            checkpoints: Table -> the id of a checkpoint its statement completed after
                catching up (from the Flink REST API, right after settling).

        Raises:
            WaitTimeout: A table did not commit in time; names it and the ids.
        """
        def behind() -> str | None:
            have = {t: self.committed(t) for t in checkpoints}
            late = {t: (have[t], c) for t, c in checkpoints.items() if have[t] < c}
            return None if not late else (
                "committed checkpoint vs wanted: " + ", ".join(
                    f"{t} {have} < {want}" for t, (have, want) in sorted(late.items()))
                + "; check the sink statements' exceptions in the Flink UI and the "
                "warehouse's free space")

        return wait_until(behind, timeout_s=timeout_s, what="Iceberg sinks committed",
                          interval_s=0.2)
