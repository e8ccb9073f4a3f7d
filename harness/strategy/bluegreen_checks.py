"""The checks of a blue/green run, derived from the model for every sink of v1 and v2.

Each function reads the sinks it needs at the moment it is called (the run calls them
on settled data) and returns :class:`~harness.checks.CheckResult` values whose evidence
says what was compared.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from harness.checks.decode import RecordDecoder
from harness.checks.derive import (
    SinkExpectation,
    changed_columns,
    complete,
    expectation,
    v1_v2_parity,
)
from harness.checks.result import CheckResult
from harness.checks.rows import parity
from harness.checks.sinks import (
    SinkSnapshot,
    no_duplicates_by_key,
    read_sink,
    same_key_encoding,
)
from harness.data.product import ProductData
from harness.data.schema import columns_from_ddl, primary_key_from_ddl
from harness.deploy.flink import FlinkDeployer
from harness.deploy.iceberg_sinks import IcebergSinks
from harness.flink.rest import FlinkRestClient
from harness.strategy.bluegreen_setup import PreparedRun


@dataclass
class SinkReader:
    """Reads physical tables of the run by their DDL (key, upsert or append).

    Reads are cached until :meth:`clear`, so one round of checks reads each topic once;
    :meth:`prefetch` reads several topics at once.
    """

    deployer: FlinkDeployer
    cache: dict[str, SinkSnapshot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.decoder = RecordDecoder(self.deployer.target.schema_registry_url)

    def clear(self) -> None:
        self.cache.clear()

    def read(self, physical: str, ddl: str) -> SinkSnapshot:
        if physical not in self.cache:
            adapted = self.deployer.adapt(ddl)
            self.cache[physical] = read_sink(
                self.deployer.target.bootstrap_servers, self.deployer.topic(physical),
                table=physical, key=primary_key_from_ddl(ddl),
                upsert=adapted.connector == "upsert-kafka", decode=self.decoder)
        return self.cache[physical]

    def prefetch(self, tables: dict[str, str]) -> None:
        """Read ``physical -> ddl`` tables concurrently into the cache."""
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="sink-reader") as pool:
            list(pool.map(lambda item: self.read(*item), tables.items()))


def _identity(expect: SinkExpectation, sink: SinkSnapshot) -> list[str] | None:
    """For an append sink, the column its source key lands in identifies one event."""
    if sink.upsert or sink.key or expect.expect_from is None:
        return None
    return list(expect.key)


def by_consumers_key(prepared: PreparedRun, logical: str,
                     sink: SinkSnapshot) -> CheckResult | None:
    """Where v2 declares another primary key than v1, ``no_duplicates`` by v1's key.

    Consumers of the logical table read it by the key v1 gave it; a v2 that widens its
    key (one row per ticker and source where there was one per ticker) has no duplicates
    by its own key and many by theirs. None when the keys agree or either has none."""
    key = list(sink.key)
    if logical not in prepared.v1.tables or not key:
        return None
    v1_key = list(primary_key_from_ddl(prepared.ddl(logical, v2=False)))
    if not v1_key or v1_key == list(key):
        return None
    found = no_duplicates_by_key(sink, identity=v1_key)
    return CheckResult(
        f"no_duplicates_by_v1_key({sink.table})", found.ok,
        f"{found.summary}; v1 keys {logical} by {v1_key} and v2 by {key}, so a "
        "consumer reading it by v1's key sees each of these as a duplicate",
        {**found.evidence, "v1_key": v1_key, "v2_key": key})


def sink_checks(prepared: PreparedRun, reader: SinkReader, data: ProductData,
                tables: dict[str, str], *, v2: bool) -> list[CheckResult]:
    """``no_duplicates`` and, where the ledger predicts the keys, ``nothing_lost``.

    Args:
        tables: Logical table -> the physical table to read.
        v2: Read the tables with the v2 model's SQL (the redeployed versions).
    """
    results = []
    model, lineage = (prepared.v2, prepared.lineage_v2) if v2 else \
        (prepared.v1, prepared.lineage_v1)
    for logical, physical in tables.items():
        expect = expectation(model, lineage, logical)
        if v2 and expect.expect_from is None and logical in prepared.v1.tables:
            promised = expectation(prepared.v1, prepared.lineage_v1, logical)
            if promised.expect_from is not None:  # v2 must keep what v1 promises
                expect = SinkExpectation(
                    expect.table, promised.key, expect.columns, promised.expect_from,
                    f"{promised.why} in v1; v2 must keep it, but: {expect.why}")
        sink = reader.read(physical, prepared.ddl(logical, v2=v2))
        results.append(no_duplicates_by_key(sink, identity=_identity(expect, sink)))
        widened = by_consumers_key(prepared, logical, sink) if v2 else None
        results += [widened] if widened is not None else []
        if expect.expect_from is not None:
            lost = complete(expect, sink, data.acked(expect.expect_from))
            if lost is not None:
                results.append(lost)
    return results


def comparison_checks(prepared: PreparedRun, reader: SinkReader) -> list[CheckResult]:
    """For every redeployed table: parity of v1 and v2 and the same key encoding."""
    results = []
    changed = changed_columns(prepared.v1, prepared.plan)
    for step in prepared.plan.redeploy:
        if step.table not in prepared.v1.tables or not prepared.v1.tables[step.table].ddl:
            continue
        expect = expectation(prepared.v1, prepared.lineage_v1, step.table)
        old = reader.read(step.table, prepared.v1.tables[step.table].ddl)
        new = reader.read(step.new_name, step.ddl)
        v2_columns = [c.name for c in columns_from_ddl(step.ddl)]
        results += v1_v2_parity(expect, old, new, changed=changed.get(step.table, set()),
                                v2_columns=v2_columns)
        if old.upsert and new.upsert:
            results.append(same_key_encoding(old, new))
    return results


def tables_of(prepared: PreparedRun, *, v1: bool, v2: bool) -> dict[str, str]:
    """Physical table -> DDL of every v1 sink and/or every v2 table of the plan."""
    tables = {}
    if v1:
        tables.update({n: t.ddl for n, t in prepared.v1.tables.items()
                       if not t.is_external and t.ddl})
    if v2:
        tables.update({r.new_name: r.ddl for r in prepared.plan.redeploy})
    return tables


def iceberg_snapshot(sinks: IcebergSinks, physical: str, ddl: str) -> SinkSnapshot:
    """An Iceberg sink's live rows (after deletes) as a snapshot keyed by its primary key."""
    rows = sinks.rows(physical)
    return SinkSnapshot(f"iceberg:{physical}", sinks.identifier(physical),
                        primary_key_from_ddl(ddl), False, [(None, row) for row in rows])


def _json_columns(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    """Columns whose values compare as JSON scalars in both readers (not timestamps)."""
    scalar = (str, int, float, bool, type(None))
    return [c for c in columns if all(isinstance(r.get(c), scalar) for r in rows)]


def iceberg_checks(prepared: PreparedRun, sinks: IcebergSinks, reader: SinkReader,
                   data: ProductData, tables: dict[str, str], *, v2: bool) -> list[CheckResult]:
    """For each Iceberg sink: no duplicates after deletes, nothing lost (where the ledger
    predicts the keys), and the same rows as the Kafka table it copies."""
    results = []
    chosen = {p: prepared.ddl(t, v2=v2) for t, p in tables.items()}
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="iceberg-reader") as pool:
        snapshots = dict(zip(chosen, pool.map(lambda item: iceberg_snapshot(sinks, *item),
                                              chosen.items()), strict=True))
    reader.prefetch({p: ddl for p, ddl in chosen.items()})
    for logical, physical in tables.items():
        ddl = chosen[physical]
        iceberg = snapshots[physical]
        key = primary_key_from_ddl(ddl)
        results.append(no_duplicates_by_key(iceberg, identity=key))
        widened = by_consumers_key(prepared, logical, iceberg) if v2 else None
        results += [widened] if widened is not None else []
        expect = expectation(prepared.v1, prepared.lineage_v1, logical)
        lost = complete(expect, iceberg, data.acked(expect.expect_from)) \
            if expect.expect_from else None
        if lost is not None:
            results.append(lost)
        kafka = reader.read(physical, ddl)
        columns = _json_columns(iceberg.rows(), [c.name for c in columns_from_ddl(ddl)])
        same = parity(kafka.rows(), iceberg.rows(), key=key[0] if len(key) == 1 else key,
                      columns=columns, name=f"{physical} kafka~iceberg")
        results.append(CheckResult(f"sink_parity({physical})", same.ok, same.summary,
                                   {**same.evidence, "compared": columns}))
    return results


def unfed(prepared: PreparedRun, statements: list[str]) -> list[str]:
    """The statements among ``statements`` that no table cutover writes flows into: they
    read only seeds (INSERT ... VALUES) or topics nobody writes during the run, so their
    record counts have no reason to advance while the plan deploys."""
    fed = {t for source in prepared.data.sources
           for t in (source.table, *prepared.v1.descendants(source.table))}
    prefix = IcebergSinks.statement("")
    return [n for n in statements if n.removeprefix(prefix) not in fed]


def expectations_text(prepared: PreparedRun) -> dict[str, str]:
    """Logical sink -> what its checks can and cannot expect (for the report)."""
    return {name: expectation(prepared.v1, prepared.lineage_v1, name).why
            for name, table in prepared.v1.tables.items() if not table.is_external}


def serving_check(name: str, deployer: FlinkDeployer, rest: FlinkRestClient, *,
                  expected: dict[str, str], running: list[str],
                  stopped: dict[str, str], dropped: tuple[str, ...] = ()) -> CheckResult:
    """The serving map points where it should, and the right statements run or not.

    Args:
        name: ``promoted`` or ``rolled_back``.
        expected: Logical table -> the physical table that must serve it.
        running: Statements that must be RUNNING (or FINISHED, when bounded).
        stopped: Statement -> job id of statements that must not be running any more.
        dropped: Topics that must not exist any more.
    """
    serving = deployer.serving.tables()
    wrong = {t: serving.get(t, t) for t, want in expected.items() if serving.get(t, t) != want}
    states = {n: rest.job(s.job_id or "").state for n, s in deployer.statements.items()
              if n in running}
    not_running = {n: states.get(n, "not deployed") for n in running
                   if n not in deployer.statements
                   or not deployer.statements[n].healthy_in(states.get(n))}
    still = {n: rest.job(j).state for n, j in stopped.items()
             if j and rest.job(j).state == "RUNNING"}
    existing = set(deployer.admin.list_topics(timeout=10).topics)
    left = sorted(t for t in dropped if t in existing)
    ok = not (wrong or not_running or still or left)
    return CheckResult(name, ok,
                       f"{len(wrong)} tables served wrongly, {len(not_running)} statements not "
                       f"running, {len(still)} still running that should not, {len(left)} "
                       "dropped topics left",
                       {"serving_map": str(deployer.serving.path), "serving": serving,
                        "served_wrongly": wrong, "not_running": not_running,
                        "still_running": still, "topics_left": left})


Recorder = Callable[[CheckResult], CheckResult]
