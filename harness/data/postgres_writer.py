"""Synthetic writes to a PostgreSQL source table, with a ledger of what was committed.

Inserts go through multi-row INSERT statements by default, so every row is its own WAL
record. COPY is faster but writes one multi-insert record (one LSN) for many rows, and
Debezium 3.2 resumes after a restart at an LSN, not an event: the rest of a COPY batch it
was streaming when stopped is skipped (debezium/dbz#1554, fixed in releases built on
Kafka Connect 4). ``insert(..., copy=True)`` keeps the fast path where no restart happens.
Updates and deletes go through pipelined batches.
Every committed transaction is recorded with its commit LSN, so checks can say which
rows the CDC outputs must hold, and in which order they were committed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

INSERT_CHUNK = 1000  # rows per INSERT statement


@dataclass(frozen=True)
class Commit:
    """One committed transaction: its operations and the WAL position it ended at."""

    lsn: str
    op: str  # insert | update | delete
    keys: tuple[Any, ...]


@dataclass
class RowLedger:
    """Rows a source table holds according to what the writer committed, by primary key."""

    rows: dict[Any, dict[str, Any]] = field(default_factory=dict)
    deleted: set[Any] = field(default_factory=set)
    commits: list[Commit] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def apply(self, commit: Commit, rows: Sequence[Mapping[str, Any]], key: str) -> None:
        with self._lock:
            self.commits.append(commit)
            for row in rows:
                if commit.op == "delete":
                    self.rows.pop(row[key], None)
                    self.deleted.add(row[key])
                else:
                    self.rows.setdefault(row[key], {}).update(row)
                    self.deleted.discard(row[key])

    def live(self) -> dict[Any, dict[str, Any]]:
        with self._lock:
            return {k: dict(v) for k, v in self.rows.items()}


class PostgresWriter:
    """Inserts, updates and deletes rows of one table, recording each commit."""

    def __init__(self, dsn: str, schema: str, table: str, *, key: str) -> None:
        # synchronous_commit=on in this session: a logical slot read right after a
        # commit must see it.
        self.conn = psycopg.connect(dsn, autocommit=False,
                                    options="-c synchronous_commit=on")
        self.target = sql.Identifier(schema, table)
        self.key = key
        self.ledger = RowLedger()
        # One transaction at a time: a background WriteLoop and the test thread share the
        # connection, and interleaved statements would land in each other's transaction.
        self._lock = threading.RLock()

    def insert(self, rows: Sequence[Mapping[str, Any]], *, copy: bool = False) -> Commit:
        """Insert rows in one transaction: multi-row INSERTs (one WAL record per row), or
        COPY when ``copy`` (faster, but see the module docstring about restarts)."""
        with self._lock:
            return self._insert(rows, copy=copy)

    def _insert(self, rows: Sequence[Mapping[str, Any]], *, copy: bool) -> Commit:
        columns = list(rows[0])
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        with self.conn.cursor() as cur:
            if copy:
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(self.target, names)
                with cur.copy(statement) as stream:
                    for row in rows:
                        stream.write_row([row[c] for c in columns])
            else:
                for start in range(0, len(rows), INSERT_CHUNK):
                    chunk = rows[start:start + INSERT_CHUNK]
                    values = sql.SQL(", ").join(
                        sql.SQL("({})").format(sql.SQL(", ").join(
                            sql.Literal(row[c]) for c in columns)) for row in chunk)
                    cur.execute(sql.SQL("INSERT INTO {} ({}) VALUES {}").format(
                        self.target, names, values))
        return self._commit("insert", rows)

    def update(self, rows: Sequence[Mapping[str, Any]]) -> Commit:
        """Update rows by key (each mapping holds the key and the columns to set)."""
        with self._lock:
            return self._update(rows)

    def _update(self, rows: Sequence[Mapping[str, Any]]) -> Commit:
        with self.conn.cursor() as cur:
            for row in rows:
                assignments = sql.SQL(", ").join(
                    sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c))
                    for c in row if c != self.key)
                cur.execute(sql.SQL("UPDATE {} SET {} WHERE {} = {}").format(
                    self.target, assignments, sql.Identifier(self.key),
                    sql.Placeholder(self.key)), row)
        return self._commit("update", rows)

    def delete(self, keys: Iterable[Any]) -> Commit:
        rows = [{self.key: k} for k in keys]
        with self._lock:
            with self.conn.cursor() as cur:
                cur.executemany(sql.SQL("DELETE FROM {} WHERE {} = %s").format(
                    self.target, sql.Identifier(self.key)), [(r[self.key],) for r in rows])
            return self._commit("delete", rows)

    def execute(self, statement: str) -> None:
        """Run DDL (e.g. ALTER TABLE ... ADD COLUMN) in its own transaction."""
        with self._lock:
            with self.conn.cursor() as cur:
                cur.execute(statement.encode())
            self.conn.commit()

    def _commit(self, op: str, rows: Sequence[Mapping[str, Any]]) -> Commit:
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn()::text")
            row = cur.fetchone()
        self.conn.commit()
        commit = Commit(str(row[0]) if row else "", op, tuple(r[self.key] for r in rows))
        self.ledger.apply(commit, rows, self.key)
        return commit

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> PostgresWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
