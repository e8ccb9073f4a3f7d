"""Everything a blue/green run knows before it deploys anything, checked up front.

:func:`prepare` loads the product at both refs, plans the change, checks the table list
against the plan, analyses lineage and plans the synthetic data. Any problem with the
user's files is raised here, as a :class:`~harness.errors.CutoverError` naming the file
and the fix, so nothing is deployed for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.data.encoding import EncodingError, RecordEncoding, encoding_for
from harness.data.plan import DataPlan, plan_data
from harness.data.schema import primary_key_from_ddl
from harness.errors import CutoverError
from harness.pipeline.ddl import parse_create_table
from harness.pipeline.dialect import with_rowtime
from harness.pipeline.gitrefs import models_between
from harness.pipeline.inserts import require_matching_widths
from harness.pipeline.lineage import ProductLineage
from harness.pipeline.model import PipelineModel
from harness.pipeline.plan import ImpactPlan, plan_change
from harness.pipeline.tablelist import (
    TableListCoverage,
    check_coverage,
    read_table_list,
    require_coverage,
)

if TYPE_CHECKING:
    from harness.deploy.flink import FlinkDeployer

THEN = ("promote", "rollback", "promote-rollback")


class BlueGreenInputError(CutoverError):
    """The user's pipeline, refs or options cannot be verified as given."""


@dataclass(frozen=True)
class BlueGreenSpec:
    """What to verify: a pipeline folder of a git checkout, two refs, and how to end.

    Attributes:
        pipelines: The ``pipelines`` folder (shift_left layout) or a plain folder.
        from_ref: The ref running now (v1).
        to_ref: The ref to deploy (v2 of the changed statements and descendants).
        then: ``promote``, ``rollback`` or ``promote-rollback``.
        table_list: The runbook's ``statements-to-deploy.txt``, checked against the plan.
        records: Records of each leaf source when seeding (parents get fewer).
        rate_per_s: Rate of the live feed while v2 is deployed.
        seed: Seed of all synthetic values.
        settle_timeout_s: How long settling may take before the run fails.
        iceberg_sinks: Layers (``fact``, ``view``...) or table names materialized as
            Iceberg upsert tables too, as sink connectors would.
    """

    pipelines: Path
    from_ref: str
    to_ref: str
    then: str = "promote"
    table_list: Path | None = None
    records: int = 600
    rate_per_s: float = 100.0
    seed: int = 20261201
    settle_timeout_s: float = 120.0
    iceberg_sinks: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"pipelines": str(self.pipelines), "from_ref": self.from_ref,
                "to_ref": self.to_ref, "then": self.then,
                "table_list": str(self.table_list) if self.table_list else None,
                "records": self.records, "rate_per_s": self.rate_per_s, "seed": self.seed,
                "settle_timeout_s": self.settle_timeout_s,
                "iceberg_sinks": list(self.iceberg_sinks)}


@dataclass
class PreparedRun:
    """The spec, resolved: models, plan, lineage and data plan."""

    spec: BlueGreenSpec
    v1: PipelineModel
    v2: PipelineModel
    changed: list[str]
    plan: ImpactPlan
    lineage_v1: ProductLineage
    lineage_v2: ProductLineage
    data: DataPlan
    extra_ddl: dict[str, str] = field(default_factory=dict)
    coverage: TableListCoverage | None = None
    warnings: list[str] = field(default_factory=list)
    sink_tables: list[str] = field(default_factory=list)

    def ddl(self, table: str, *, v2: bool) -> str:
        """The DDL of logical ``table`` as v1 runs it, or as its v2 runs it (renamed)."""
        if v2:
            step = next((r for r in self.plan.redeploy if r.table == table), None)
            return step.ddl if step is not None else self.v2.tables[table].ddl
        return self.v1.tables[table].ddl


def sink_tables(model: PipelineModel, wanted: tuple[str, ...]) -> list[str]:
    """The tables of ``model`` that ``--iceberg-sinks`` names, by layer or by name.

    Raises:
        BlueGreenInputError: A name is neither a layer nor a table, or a chosen table has
            no primary key (an upsert sink needs identifier fields).
    """
    layers = {t.layer for t in model.tables.values()}
    unknown = [w for w in wanted if w not in layers and w not in model.tables]
    if unknown:
        raise BlueGreenInputError(f"--iceberg-sinks {unknown} names no layer and no table; "
                                  f"layers here: {sorted(layers)}")
    chosen = [n for n in model.topological_order() if not model.tables[n].is_external
              and (n in wanted or model.tables[n].layer in wanted)]
    keyless = [n for n in chosen if not primary_key_from_ddl(model.tables[n].ddl or "(x INT)")]
    if keyless:
        files = ", ".join(str(model.tables[n].ddl_path or n) for n in keyless)
        raise BlueGreenInputError(f"{keyless} have no PRIMARY KEY ({files}), so an Iceberg "
                                  "upsert sink has no identifier fields; add one or leave "
                                  "them out of --iceberg-sinks")
    return chosen


def _not_fed_by_kafka(model: PipelineModel, name: str) -> str | None:
    ddl = model.tables[name].ddl.lower()
    if "debezium" in ddl:
        return ("it is a CDC topic (a Debezium format); its rows come from PostgreSQL "
                "through Debezium, not from synthetic Kafka records")
    return None


def source_encodings(prepared: PreparedRun, deployer: FlinkDeployer) \
        -> dict[str, RecordEncoding]:
    """How each fed source is written: in the formats its adapted DDL reads (JSON, or
    Avro through the registry, keys included).

    Raises:
        BlueGreenInputError: A source's format or column types cannot be written.
    """
    encodings = {}
    for source in prepared.data.sources:
        ddl = deployer.ddl_of(prepared.v1, source.table)
        if not ddl:
            continue  # inferred: a JSON table cutover declares itself
        adapted = deployer.adapt(ddl)
        table = parse_create_table(adapted.sql)
        try:
            encodings[source.table] = encoding_for(
                dict(table.options or ()) if table else {}, source.columns,
                topic=adapted.topic or deployer.topic(source.table),
                registry_url=deployer.target.schema_registry_url)
        except EncodingError as exc:
            where = prepared.v1.tables[source.table].ddl_path or source.table
            raise BlueGreenInputError(f"{where}: {exc}") from exc
    return encodings


def needs_registry(prepared: PreparedRun) -> bool:
    """Whether a table of the run reads or writes Avro through a schema registry."""
    ddls = [t.ddl for t in prepared.v1.tables.values()] + [r.ddl for r in
                                                           prepared.plan.redeploy]
    return any("avro" in ddl.lower() for ddl in ddls)


def inferred_ddl(lineage: ProductLineage, name: str) -> str:
    """A CREATE TABLE for an external the project has no DDL for (an append JSON topic)."""
    physical = [c for c in lineage.columns(name) if c.name != "$rowtime"]
    columns = ",\n  ".join(f"`{c.name}` {c.type}" for c in physical)
    ddl = (f"CREATE TABLE `{name}` (\n  {columns}\n) WITH (\n  'changelog.mode' = 'append',\n"
           "  'value.format' = 'json-registry',\n  'scan.startup.mode' = 'earliest-offset'\n)")
    read_rowtime = len(physical) < len(lineage.columns(name))  # the Kafka record timestamp
    return with_rowtime(ddl) if read_rowtime else ddl


def _in_scope(v1: PipelineModel, v2: PipelineModel, plan: ImpactPlan) -> set[str]:
    """The redeployed tables and every table upstream of them, at either ref."""
    keep: set[str] = set()
    todo = [r.table for r in plan.redeploy]
    while todo:
        name = todo.pop()
        if name not in keep:
            keep.add(name)
            todo += [p for model in (v1, v2) if name in model.tables
                     for p in model.tables[name].parents]
    return keep


def _scoped(model: PipelineModel, keep: set[str]) -> PipelineModel:
    """``model`` with only the tables of ``keep``; an external none of them reads goes."""
    return PipelineModel([t for n, t in model.tables.items() if n in keep and (
        not t.is_external or any(c in keep for c in model.children(n)))],
        warnings=model.warnings)


def _require_known_sources(v1: PipelineModel, v2: PipelineModel, plan: ImpactPlan,
                           spec: BlueGreenSpec) -> None:
    """A v2 must read sources v1 reads: a new raw topic would never be created or fed."""
    new = {p: r.table for r in plan.redeploy for p in v2.tables[r.table].parents
           if v2.tables[p].is_external and p not in v1.tables}
    if new:
        where = "; ".join(f"{t} reads {p} ({v2.tables[t].dml_path or t})"
                          for p, t in sorted(new.items()))
        raise BlueGreenInputError(
            f"at {spec.to_ref}, {where}, a source {spec.from_ref} does not have: cutover "
            f"feeds only the sources the running product reads. Rebase {spec.to_ref} on "
            f"{spec.from_ref}, or add the source (its DDL and a statement reading it) to "
            f"{spec.from_ref} first")


def _check_spec(spec: BlueGreenSpec) -> None:
    if spec.then not in THEN:
        raise BlueGreenInputError(f"--then {spec.then!r} is not one of {', '.join(THEN)}")
    if spec.records < 1 or spec.rate_per_s <= 0:
        raise BlueGreenInputError("--records must be at least 1 and --rate-per-s positive")


def prepare(spec: BlueGreenSpec) -> PreparedRun:
    """Resolve ``spec`` without touching any service.

    Raises:
        CutoverError: The folder, refs, SQL, table list or options cannot be verified;
            the message names the file and the fix.
    """
    _check_spec(spec)
    v1, v2, changed = models_between(spec.pipelines, spec.from_ref, spec.to_ref)
    if not changed:
        raise BlueGreenInputError(
            f"no statement changed between {spec.from_ref} and {spec.to_ref} in "
            f"{spec.pipelines}; pass the release branch as --to (`git diff --stat "
            f"{spec.from_ref} {spec.to_ref} -- {spec.pipelines}` shows what differs)")
    plan = plan_change(v2, changed)
    coverage = None
    if spec.table_list is not None:
        coverage = check_coverage(read_table_list(spec.table_list), plan, v2)
        require_coverage(coverage, spec.table_list, plan)
    # Tables neither upstream nor downstream of the change play no part in it: they are
    # not deployed, analysed or fed, so an unrelated unfinished statement cannot stop it.
    keep = _in_scope(v1, v2, plan)
    left_out = sorted(n for n in {*v1.tables, *v2.tables} - keep
                      if not (v2.tables.get(n) or v1.tables[n]).is_external)
    if left_out:
        v1, v2 = _scoped(v1, keep), _scoped(v2, keep)
        plan = plan_change(v2, changed)
    _require_known_sources(v1, v2, plan, spec)
    lineage_v1, lineage_v2 = ProductLineage(v1), ProductLineage(v2)
    require_matching_widths(lineage_v1, [n for n in v1.tables if not v1.tables[n].is_external])
    require_matching_widths(lineage_v2, [r.table for r in plan.redeploy])
    data = plan_data(v1, lineage_v1, records=spec.records,
                     feedable=lambda name: _not_fed_by_kafka(v1, name))
    extra = {name: inferred_ddl(lineage_v1, name) for name in v1.external
             if not v1.tables[name].ddl}
    warnings = [*v1.warnings, *v2.warnings, *data.warnings]
    if left_out:
        shown = ", ".join(left_out[:8]) + (f" and {len(left_out) - 8} more"
                                            if len(left_out) > 8 else "")
        warnings.append(f"{len(left_out)} tables neither upstream nor downstream of the "
                        f"change are left out of the run (not deployed, not checked): "
                        f"{shown}")
    if coverage is not None and coverage.extra:
        warnings.append(f"table list {spec.table_list} also names {coverage.extra}, which the "
                        "change does not touch: shift_left would restart those green "
                        "statements")
    return PreparedRun(spec, v1, v2, changed, plan, lineage_v1, lineage_v2, data, extra,
                       coverage, list(dict.fromkeys(warnings)),
                       sink_tables(v1, spec.iceberg_sinks))
