"""The parity gate: a PostgreSQL relation and its Iceberg table agree at a source LSN.

While the source takes writes, the two sides can only be compared at one WAL position:
the PostgreSQL side is a snapshot at LSN T (:meth:`PostgresRelation.snapshot`), and the
Iceberg side is read once the pipeline settled (``settle``: every statement consumed its
Kafka input and the sinks committed). A key that differs then is either *in flight*
(PostgreSQL changed it after T, so Iceberg may rightly hold a newer value) or *settled*
(unchanged since T, so Iceberg must hold exactly the snapshot's row: it is lost, stale,
duplicated or wrong). Rounds repeat until no key differs (PASS) or ``budget_s`` passes
(FAIL, fail-closed, with the differing keys as evidence). A lagging pipeline therefore
fails once the budget is spent; a source whose every key changes all the time never
settles, and the summary says to hold its writes during the gate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from harness.checks.result import CheckResult
from harness.parity.diff import DiffSpec, KeyDifference, TableDiff, diff_tables
from harness.parity.sources import IcebergSide, PostgresRelation, PostgresSnapshot
from harness.sqltext import quote_identifier as quote
from harness.stack.endpoint import IcebergEndpoint

RECHECK_KEYS = 10_000  # differing keys re-read from PostgreSQL per round


@dataclass(frozen=True)
class ParityCheck:
    """One relation and its Iceberg table, compared by ``spec``; ``name`` labels it."""

    name: str
    postgres: PostgresRelation
    iceberg: IcebergSide
    spec: DiffSpec
    budget_s: float = 30.0
    interval_s: float = 1.0


def parity_check(name: str, *, dsn: str, relation: str, iceberg: IcebergEndpoint,
                 table: str, key: Sequence[str], columns: Sequence[str] = (),
                 budget_s: float = 30.0) -> ParityCheck:
    """The check of PostgreSQL ``relation`` (``schema.name``, a table or view) against the
    Iceberg table ``table`` (``database.name``) by ``key``, on ``columns`` (all when
    empty)."""
    schema, _, relation_name = relation.partition(".")
    key, columns = tuple(key), tuple(columns)
    return ParityCheck(name, PostgresRelation(dsn, schema, relation_name,
                                              key + columns if columns else ()),
                       IcebergSide(iceberg, table), DiffSpec(key, columns), budget_s=budget_s)


@dataclass
class ParityVerdict:
    """The last round's diff, split into settled and in-flight keys."""

    check: ParityCheck
    diff: TableDiff
    lsn: str
    rounds: int
    waited_s: float
    settled: list[KeyDifference] = field(default_factory=list)
    in_flight: list[KeyDifference] = field(default_factory=list)
    settle_problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.diff.ok

    def summary(self) -> str:
        if self.ok:
            return (f"{self.diff.summary()} at source LSN {self.lsn} "
                    f"(round {self.rounds}, {self.waited_s:.1f} s)")
        lag = f"; the pipeline did not settle: {self.settle_problem}" \
            if self.settle_problem else ""
        if self.settled:
            why = (f"{len(self.settled)} keys unchanged in PostgreSQL since LSN {self.lsn} "
                   "still differ in Iceberg (lost, stale or wrong rows)")
        else:
            why = (f"every differing key changed again after LSN {self.lsn}: the source never "
                   "held still long enough to compare; hold its writes during the gate")
        return (f"no parity within {self.check.budget_s:.0f} s ({self.rounds} rounds): "
                f"{why}{lag}; {self.diff.summary()}")

    def result(self) -> CheckResult:
        evidence: dict[str, Any] = {
            **self.diff.to_evidence(), "source_lsn": self.lsn, "rounds": self.rounds,
            "waited_s": round(self.waited_s, 2),
            "settled_keys": [d.key for d in self.settled[:20]],
            "in_flight_keys": [d.key for d in self.in_flight[:20]]}
        if self.settle_problem:
            evidence["settle_problem"] = self.settle_problem
        return CheckResult(f"parity_{self.check.name}", self.ok, self.summary(), evidence)


def _subset(table: pa.Table, key: tuple[str, ...], keys: list[dict[str, Any]]) -> pa.Table:
    """The rows of ``table`` whose key is one of ``keys``."""
    wanted = pa.Table.from_pylist(keys) if keys else table.select(list(key)).slice(0, 0)
    con = duckdb.connect()
    con.register("t", table)
    con.register("w", wanted)
    on = " AND ".join(f"t.{quote(k)} IS NOT DISTINCT FROM w.{quote(k)}" for k in key)
    result: pa.Table = con.sql(f"SELECT t.* FROM t SEMI JOIN w ON {on}").to_arrow_table()
    con.close()
    return result


def _split(check: ParityCheck, snapshot: PostgresSnapshot, diff: TableDiff) \
        -> tuple[list[KeyDifference], list[KeyDifference]]:
    """Differing keys that PostgreSQL left alone since the snapshot, and those it changed."""
    keys = [d.key for d in diff.differences[:RECHECK_KEYS]]
    before = _subset(snapshot.table, check.spec.key, keys)
    now = check.postgres.rows_for(check.spec.key, keys)
    changed = {tuple(d.key.values()) for d in diff_tables(before, now, check.spec).differences}
    settled = [d for d in diff.differences if tuple(d.key.values()) not in changed]
    return settled, [d for d in diff.differences if tuple(d.key.values()) in changed]


def run_parity(check: ParityCheck, *, settle: Callable[[float], str | None] | None = None,
               progress: Callable[[str], None] = lambda _m: None,
               clock: Callable[[], float] = time.monotonic,
               pause: Callable[[float], None] = time.sleep) -> ParityVerdict:
    """Compare until the two sides agree at a source LSN or ``check.budget_s`` passes.

    ``settle(timeout_s)`` waits (at most the budget left) until the pipeline consumed
    everything the source wrote so far and returns None, or returns why it did not (the
    gate goes on and the reason is evidence).

    Raises:
        ParityError: A side cannot be read or the two cannot be compared (names why).
    """
    started = clock()
    rounds = 0
    while True:
        rounds += 1
        snapshot = check.postgres.snapshot()
        left = max(1.0, check.budget_s - (clock() - started))
        problem = settle(left) if settle is not None else None
        diff = diff_tables(snapshot.table, check.iceberg.read(), check.spec,
                           left_name=check.postgres.label, right_name=check.iceberg.label)
        waited = clock() - started
        if diff.ok:
            return ParityVerdict(check, diff, snapshot.lsn, rounds, waited)
        settled, in_flight = _split(check, snapshot, diff)
        if waited >= check.budget_s:
            return ParityVerdict(check, diff, snapshot.lsn, rounds, waited, settled,
                                 in_flight, problem)
        progress(f"parity {check.name}, round {rounds}: {len(settled)} keys differ, "
                 f"{len(in_flight)} in flight; comparing again")
        pause(min(check.interval_s, max(0.0, check.budget_s - waited)))


def parity_gate(checks: list[ParityCheck], *,
                settle: Callable[[float], str | None] | None = None,
                progress: Callable[[str], None] = lambda _m: None,
                hold: Callable[[], Any] | None = None) -> Callable[[], CheckResult]:
    """A canary gate (``CanaryRun(gate=...)``): every check must pass.

    ``hold()`` returns a context manager the checks run inside (writes held still).
    """
    from contextlib import nullcontext

    def gate() -> CheckResult:
        with (hold() if hold is not None else nullcontext()):
            results = [run_parity(c, settle=settle, progress=progress).result()
                       for c in checks]
        if len(results) == 1:
            return results[0]
        failed = [r for r in results if not r.ok]
        return CheckResult("parity", not failed,
                           "; ".join(r.summary for r in (failed or results)),
                           {r.name: r.evidence for r in results})
    return gate
