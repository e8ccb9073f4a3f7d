"""Schema evolution of any CDC source (runbook Fig. 5), on the user's own files.

Inputs: the pipelines folder of a git checkout and two refs (as for a blue/green run),
the PostgreSQL DDL of the captured tables, and a migration file (``ALTER TABLE ... ADD
COLUMN ... DEFAULT ...``). The run:

1. creates the tables in the namespace's schema, captures each with Debezium into the raw
   table of the product that names it (``--cdc RAW=TABLE``, or by name), deploys the
   product at REF1 and writes rows (every commit in a ledger, by key and LSN);
2. sets the raw value subject to FULL_TRANSITIVE and applies the migration, then writes
   rows carrying real values of the new columns and updates some old rows: the registry
   accepts the new schema or refuses it, and a refusal ends the run before anything of
   REF2 is deployed;
3. deploys the REF1 → REF2 plan beside v1 (v2 of the source statement and of every
   descendant, reading the raw topic from its earliest offset) while writes go on;
4. checks on settled data: every committed row reaches v2 of the source statement once,
   old rows carry the column's default and new rows their values, every redeployed table
   holds the keys of its v1, green statements untouched; then promotes or rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.cdc.evolution import SchemaEvolutionRejected
from harness.cdc.pg_tables import (
    PgTable,
    altered_table,
    constant_default,
    create_tables,
    describe,
    literal_default,
    migration_statements,
)
from harness.checks.result import CheckResult
from harness.checks.rows import no_duplicates, nothing_lost
from harness.checks.statements import StatementWatcher, green_untouched
from harness.data.generator import RecordGenerator
from harness.data.plan import source_predicates
from harness.data.product import satisfying
from harness.errors import ConfigError
from harness.faults.base import Fault, FaultRunner
from harness.pipeline.gitrefs import models_between
from harness.pipeline.lineage import ProductLineage
from harness.pipeline.model import PipelineModel
from harness.pipeline.plan import ImpactPlan, plan_change
from harness.strategy.evolution_checks import carried_columns, same_keys_as_v1
from harness.strategy.platform import Capture, Platform, PlatformParts


@dataclass(frozen=True)
class SourceEvolutionSpec:
    """What to verify; ``cdc`` maps raw tables of the product to PostgreSQL tables."""

    pipelines: Path
    from_ref: str
    to_ref: str
    source_ddl: Path
    migration: Path
    cdc: dict[str, str] = field(default_factory=dict)
    then: str = "promote"
    rows: int = 300
    seed: int = 20261201
    settle_timeout_s: float = 120.0

    def to_json(self) -> dict[str, Any]:
        return {"pipelines": str(self.pipelines), "from_ref": self.from_ref,
                "to_ref": self.to_ref, "source_ddl": str(self.source_ddl),
                "migration": str(self.migration), "cdc": dict(self.cdc), "then": self.then,
                "rows": self.rows, "seed": self.seed,
                "settle_timeout_s": self.settle_timeout_s}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceEvolutionSpec:
        return cls(Path(data["pipelines"]), data["from_ref"], data["to_ref"],
                   Path(data["source_ddl"]), Path(data["migration"]), dict(data["cdc"]),
                   data["then"], int(data["rows"]), int(data["seed"]),
                   float(data["settle_timeout_s"]))


@dataclass
class EvolutionOutcome:
    """``promoted``, ``rolled_back`` or ``refused`` (the registry said no), with checks."""

    outcome: str
    checks: list[CheckResult]
    figures: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {"outcome": "passed" if self.ok else "failed", "ended": self.outcome,
                "checks": [{"name": c.name, "ok": c.ok, "summary": c.summary,
                            "evidence": c.evidence} for c in self.checks],
                "figures": self.figures, "plan": self.plan}


def cdc_tables(model: PipelineModel) -> list[str]:
    """External tables of ``model`` read in a Debezium format (what CDC feeds)."""
    return sorted(n for n in model.external
                  if "debezium" in (model.tables[n].ddl or "").lower())


def map_captures(model: PipelineModel, created: list[str], given: dict[str, str]) \
        -> dict[str, str]:
    """Raw table -> PostgreSQL table. ``given`` first, then by name (``raw_<table>``,
    ``<table>``), then the only pair.

    Raises:
        ConfigError: A table cannot be matched; the message names ``--cdc``.
    """
    raws = cdc_tables(model)
    if not raws:
        raise ConfigError("no external table of the product reads a Debezium format "
                          "(value.format like avro-debezium-registry): nothing is fed by CDC")
    mapping = dict(given)
    for raw, table in given.items():
        if raw not in raws or table not in created:
            raise ConfigError(f"--cdc {raw}={table}: {raw!r} must be one of {raws} and "
                              f"{table!r} one of the tables --source-ddl created {created}")
    for raw in raws:
        if raw in mapping:
            continue
        named = [t for t in created if raw in (f"raw_{t}", t)]
        if len(named) == 1:
            mapping[raw] = named[0]
    if not mapping and len(raws) == 1 and len(created) == 1:
        mapping[raws[0]] = created[0]
    if not mapping:
        raise ConfigError(f"cannot tell which PostgreSQL table feeds which raw table "
                          f"(raw: {raws}, created: {created}); pass --cdc RAW=TABLE")
    return mapping


class RowSource:
    """Rows of one PostgreSQL table: keys counted up, values from the column types, the
    statements' filters satisfied (so rows reach the outputs)."""

    def __init__(self, table: PgTable, predicates: dict[str, Any], *, seed: int,
                 start: int = 0) -> None:
        self.table, self.predicates, self.seed = table, predicates, seed
        self.next_key = start
        self.generator = self._generator(table)

    def _generator(self, table: PgTable) -> RecordGenerator:
        columns = table.flink_columns()
        overrides = {c.name: f for c in columns if c.name != table.key and (
            f := satisfying(c, self.predicates.get(c.name, []))) is not None}
        return RecordGenerator(columns, key=table.key, seed=self.seed, overrides=overrides)

    def evolve(self, table: PgTable) -> None:
        """The table gained columns: generate them too, keys still counting up."""
        self.table, self.generator = table, self._generator(table)

    def key(self, n: int) -> Any:
        kind = self.table.column(self.table.key).data_type  # type: ignore[union-attr]
        return n if kind in ("smallint", "integer", "bigint") else f"k{n}"

    def __call__(self, _batch: int = 0, count: int = 20) -> list[dict[str, Any]]:
        rows = []
        for _ in range(count):
            row = self.generator.record()
            row[self.table.key] = self.key(self.next_key)
            self.next_key += 1
            rows.append(row)
        return rows


ProgressFn = Callable[[str], None]


def prepare(spec: SourceEvolutionSpec) \
        -> tuple[PipelineModel, PipelineModel, ImpactPlan, list[str]]:
    """Models, plan and migration statements, checked before any service is touched.

    Raises:
        ConfigError: A file is missing, the migration is not ALTER TABLE only, nothing
            changed between the refs, or the product reads nothing through CDC.
    """
    if spec.then not in ("promote", "rollback"):
        raise ConfigError(f"--then {spec.then}: a source evolution ends with promote or "
                          "rollback")
    if not spec.source_ddl.is_file():
        raise ConfigError(f"--source-ddl {spec.source_ddl}: no such file")
    statements = migration_statements(spec.migration)
    v1, v2, changed = models_between(spec.pipelines, spec.from_ref, spec.to_ref)
    if not changed:
        raise ConfigError(f"no statement changed between {spec.from_ref} and {spec.to_ref}; "
                          "the source statement must change to read the new columns")
    if not cdc_tables(v1):
        raise ConfigError("no external table of the product reads a Debezium format "
                          "(value.format like avro-debezium-registry): nothing is fed by CDC")
    return v1, v2, plan_change(v2, changed), statements


def check_spec(spec: SourceEvolutionSpec) -> ImpactPlan:
    """:func:`prepare` for the CLI: the plan, or the error naming the fix."""
    return prepare(spec)[2]


class SourceEvolutionRun:
    """One verification of ``spec`` on a stack (``parts``), in one namespace."""

    def __init__(self, spec: SourceEvolutionSpec, *, parts: PlatformParts, schema: str,
                 name: str, record: Callable[[CheckResult], Any] = lambda _c: None,
                 progress: ProgressFn = lambda _m: None,
                 faults: Sequence[Fault] = ()) -> None:
        """``faults`` are on while the migration runs and its rows are written (a
        Connect worker down: the offline DDL of the runbook), healed before the registry
        is asked for the new schema."""
        self.spec, self.parts, self.schema, self.name = spec, parts, schema, name
        self.record, self.progress = record, progress
        self.faults = FaultRunner(parts.events)
        self._migration_faults = list(faults)
        self.checks: list[CheckResult] = []
        self.figures: dict[str, Any] = {}
        self.platform: Platform | None = None

    def _add(self, result: CheckResult) -> None:
        self.checks.append(result)
        self.record(result)

    def run(self) -> EvolutionOutcome:
        v1, v2, plan, statements = prepare(self.spec)
        pg = self.parts.postgres
        created = create_tables(pg.dsn, self.schema, self.spec.source_ddl)
        mapping = map_captures(v1, created, self.spec.cdc)
        sources = [r for r in plan.redeploy if set(v2.tables[r.table].parents) & set(mapping)]
        if not sources:
            raise ConfigError(f"{self.spec.to_ref} changes no statement reading "
                              f"{sorted(mapping)}; change the source statement to read the "
                              "new columns (its descendants follow)")
        tables = {t: describe(pg.dsn, self.schema, t) for t in mapping.values()}
        lineage = ProductLineage(v1)
        rows = {raw: RowSource(tables[t], source_predicates(lineage, v1, raw),
                               seed=self.spec.seed + i)
                for i, (raw, t) in enumerate(sorted(mapping.items()))}
        self.platform = platform = Platform(
            model=v1, parts=self.parts, schema=self.schema, name=self.name,
            captures=[Capture(t, raw, "", tables[t].key) for raw, t in mapping.items()],
            settle_timeout_s=self.spec.settle_timeout_s)
        self.progress(f"capturing {', '.join(created)}; deploying {self.spec.from_ref}")
        platform.start()
        for raw, table in mapping.items():
            platform.writers[table].insert(rows[raw](count=self.spec.rows))
        self._settled("v1")
        altered = sorted({altered_table(st) for st in statements} & set(mapping.values()))
        if not altered:
            raise ConfigError(f"--source-migration {self.spec.migration} alters none of the "
                              f"captured tables {sorted(mapping.values())}")
        raw_of = {t: raw for raw, t in mapping.items()}
        versions: dict[str, list[int]] = {}
        for table in altered:
            subject = platform.value_subject(raw_of[table])
            mine = [st for st in statements if altered_table(st) == table]
            try:
                with ExitStack() as faulted:
                    for fault in self._migration_faults:
                        faulted.enter_context(self.faults.during(fault))
                    self._migration_faults = []  # once, around the first table's change
                    change = platform.evolve(
                        table, ";\n".join(mine),
                        lambda t=table: self._write_evolved(raw_of[t], t, rows),  # type: ignore[misc]
                        what=f"--source-migration {self.spec.migration}",
                        before_registry=faulted.close)
            except SchemaEvolutionRejected as exc:
                self._add(CheckResult("schema_change_compatible", False, str(exc),
                                      {"subject": subject, "compatibility": "FULL_TRANSITIVE",
                                       "accepted": versions}))
                running = sorted(self.parts.deployer.statements)
                self._add(CheckResult("nothing_of_v2_deployed", not any(
                    r.new_name in running for r in plan.redeploy),
                    f"statements running: {running}", {"running": running}))
                return self.outcome("refused", plan)
            versions[subject] = change.versions_after
        first = next(iter(versions.values()))
        self._add(CheckResult("schema_change_compatible", True,
                              "; ".join(f"{s}: versions now {v} under FULL_TRANSITIVE"
                                        for s, v in versions.items()),
                              {"subjects": versions, "versions": first}))
        return self._deploy_v2(v1, v2, plan, mapping, tables, rows, sources, altered)

    def _write_evolved(self, raw: str, table: str, rows: dict[str, RowSource]) -> None:
        """New rows with values in the added columns, and some old rows updated to hold
        values there too (the rest keep the DEFAULT)."""
        assert self.platform is not None
        before = rows[raw].table
        rows[raw].evolve(describe(self.parts.postgres.dsn, self.schema, table))
        writer = self.platform.writers[table]
        writer.insert(rows[raw](count=max(10, self.spec.rows // 3)))
        added = [c.name for c in rows[raw].table.columns if before.column(c.name) is None]
        old = sorted(writer.ledger.live())[: max(1, self.spec.rows // 10)]
        fresh = rows[raw](count=len(old))
        if added:
            writer.update([{before.key: k, **{c: r[c] for c in added}}
                           for k, r in zip(old, fresh, strict=True)])

    def _deploy_v2(self, v1: PipelineModel, v2: PipelineModel, plan: ImpactPlan,
                   mapping: dict[str, str], before: dict[str, PgTable],
                   rows: dict[str, RowSource], sources: list[Any],
                   altered: list[str]) -> EvolutionOutcome:
        platform = self.platform
        assert platform is not None
        deployer = self.parts.deployer
        redeployed = {r.table for r in plan.redeploy}
        green = [s for n, s in deployer.statements.items() if n not in redeployed]
        loops = [platform.writes(t, rows[raw]) for raw, t in mapping.items()]
        self.progress(f"deploying the plan of {self.spec.to_ref} beside v1 while writes go on")
        with StatementWatcher(self.parts.rest, green) as watcher:
            for loop in loops:
                loop.start()
            platform.deploy_change(v2, plan)
            for loop in loops:  # the source at rest: the ledger is what v2 must hold
                loop.stop()
            platform.loops.clear()
            self._settled("v2")
        self._add(green_untouched(watcher.samples, {s.name: s.job_id or "" for s in green}))
        for step in sources:
            raw = next(r for r in v2.tables[step.table].parents if r in mapping)
            table = mapping[raw]
            ledger = platform.writers[table].ledger.live()
            out = deployer.rows(step.new_name)
            key = before[table].key
            self._add(no_duplicates(out, key, sink=step.new_name))
            self._add(nothing_lost(ledger.keys(), out, key, sink=step.new_name))
            if table not in altered:
                continue
            after = describe(self.parts.postgres.dsn, self.schema, table)
            added = [c for c in after.columns if before[table].column(c.name) is None]
            self._add(carried_columns(
                ledger, out, key=key, sink=step.new_name,
                defaults={c.name: literal_default(c) for c in added if constant_default(c)},
                not_comparable=[c.name for c in added if not constant_default(c)]))
        for step in plan.redeploy:
            self._add(same_keys_as_v1(deployer, step))
        if self.spec.then == "rollback":
            platform.rollback(plan, v1)
            return self.outcome("rolled_back", plan)
        platform.promote(plan)
        switched = {r.table: deployer.active.get(r.table) for r in plan.redeploy}
        self._add(CheckResult("promoted", all(switched[r.table] == r.new_name
                                              for r in plan.redeploy),
                              f"consumers read {switched}", {"serving": switched}))
        return self.outcome("promoted", plan)

    def _settled(self, stage: str) -> None:
        assert self.platform is not None
        problem = self.platform.settle()
        self._add(CheckResult(f"settled_{stage}", problem is None,
                              problem or "every statement consumed its input",
                              {"stage": stage}))

    def outcome(self, ended: str, plan: ImpactPlan) -> EvolutionOutcome:
        if self.faults.windows:
            self.figures.update(self.faults.summary())
        return EvolutionOutcome(ended, self.checks, self.figures, plan.to_json())

    def close(self) -> None:
        if self.platform is not None:
            self.platform.close()
