"""Checks derived from the pipeline model for every sink table, instead of written by hand.

For each sink the model says:

* its primary key (DDL) and whether consumers read it with upsert semantics;
* whether the ledger can say exactly which keys it must hold: when its key copies a
  source's key (column lineage) through statements that only filter in ways the data
  plan satisfies, every acknowledged source key must be there. Where a statement has a
  filter cutover does not understand, aggregates the key away, or windows it, the
  expectation says so instead of pretending, and parity with v1 is the check;
* which columns a change touched (expression or inputs differ), so parity compares the
  others, and which columns are new in v2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.checks.result import EXAMPLES, CheckResult
from harness.checks.rows import nothing_lost, parity
from harness.checks.sinks import SinkSnapshot
from harness.data.schema import columns_from_ddl, primary_key_from_ddl
from harness.pipeline.expressions import column_expressions
from harness.pipeline.lineage import ProductLineage
from harness.pipeline.model import PipelineModel
from harness.pipeline.plan import ImpactPlan


@dataclass(frozen=True)
class SinkExpectation:
    """What can be expected of one logical sink table.

    Attributes:
        table: The logical table.
        key: Its primary-key columns.
        columns: Its physical columns.
        expect_from: The external source whose every acknowledged key must be in the
            sink (its key column is ``key[0]``), or None when that cannot be expected.
        why: What was compared, or why exact completeness cannot be expected.
    """

    table: str
    key: list[str]
    columns: list[str]
    expect_from: str | None
    why: str


def _blockers(model: PipelineModel, lineage: ProductLineage, table: str,
              source: str) -> list[str]:
    """Statements between the sources and ``table`` that make its keys unpredictable.

    Besides opaque filters and windows, an inner join in which ``source`` (the sink key's
    source) is the *parent* keeps only the keys some child row references: the data plan
    makes every child find its parent, not every parent get a child.
    """
    found = []
    path = set(lineage.path(table))
    for link in lineage.key_links():
        if link.parent.table == source and link.statement in path \
                and not lineage.shape(link.statement).outer_joins:
            where = model.tables[link.statement].dml_path or link.statement
            found.append(f"{link.statement} inner-joins {source} with {link.child.table} "
                         f"({where}): only {source} keys some {link.child.table} row "
                         "references reach it")
    for name in lineage.path(table):
        if model.tables[name].is_external:
            continue
        shape = lineage.shape(name)
        where = model.tables[name].dml_path or name
        if shape.parse_error:
            found.append(f"{name}: its DML does not parse ({shape.parse_error}) at {where}")
        if shape.filters:
            found.append(f"{name} filters on {'; '.join(shape.filters)} ({where}), which the "
                         "synthetic data cannot be shaped to pass")
        if shape.windowed:
            found.append(f"{name} aggregates over windows ({where}): rows appear when "
                         "windows close")
    return found


def expectation(model: PipelineModel, lineage: ProductLineage, table: str) -> SinkExpectation:
    """What the ledger says ``table`` must hold, derived from the model."""
    ddl = model.tables[table].ddl
    key = primary_key_from_ddl(ddl) if ddl else []
    columns = [c.name for c in columns_from_ddl(ddl)] if ddl else []
    if len(key) != 1:
        return SinkExpectation(table, key, columns, None,
                               f"key {key or 'none'} is not one column copied from a source "
                               "key: completeness checked by parity with v1")
    sources = [ref for ref in lineage.origins(table, key[0])
               if lineage.source_key(ref.table) == ref.column]
    if not sources:
        return SinkExpectation(table, key, columns, None,
                               f"key {key[0]} is computed or aggregated, no source key reaches "
                               "it: completeness checked by parity with v1")
    source = sorted(sources, key=lambda r: r.table)[0]
    blockers = _blockers(model, lineage, table, source.table)
    if blockers:
        return SinkExpectation(table, key, columns, None, "; ".join(dict.fromkeys(blockers))
                               + ": completeness checked by parity with v1")
    return SinkExpectation(table, key, columns, source.table,
                           f"every acknowledged {source.table}.{source.column} is a "
                           f"{table}.{key[0]} (column lineage)")


def complete(expect: SinkExpectation, sink: SinkSnapshot, acked: Iterable[str]) \
        -> CheckResult | None:
    """``nothing_lost`` for a sink whose keys the ledger predicts; None when it cannot."""
    if expect.expect_from is None:
        return None
    column = expect.key[0]
    rows = [{column: str(row.get(column))} for row in sink.rows()]
    result = nothing_lost(acked, rows, column, sink=sink.table)
    return CheckResult(result.name, result.ok, result.summary,
                       {**result.evidence, "compared": expect.why})


def changed_columns(v1: PipelineModel, plan: ImpactPlan) -> dict[str, set[str]]:
    """Logical table -> columns of its v2 whose values may differ from v1's."""
    changed: dict[str, set[str]] = {}
    for step in plan.redeploy:
        new_cols = [c.name for c in columns_from_ddl(step.ddl)]
        old = v1.tables.get(step.table)
        old_exprs = column_expressions(old.dml, [c.name for c in columns_from_ddl(old.ddl)]) \
            if old is not None and old.ddl else {}
        new_exprs = column_expressions(step.dml, new_cols)
        upstream = set().union(*(changed.get(_logical(p, plan), set()) for p in step.parents))
        touched = set()
        for column in new_cols:
            before, after = old_exprs.get(column), new_exprs.get(column)
            if before is None or after is None or before.text != after.text \
                    or after.reads & upstream:
                touched.add(column)
        changed[step.table] = touched
    return changed


def _logical(physical: str, plan: ImpactPlan) -> str:
    return next((r.table for r in plan.redeploy if r.new_name == physical), physical)


def v1_v2_parity(expect: SinkExpectation, v1: SinkSnapshot, v2: SinkSnapshot, *,
                 changed: set[str], v2_columns: list[str]) -> list[CheckResult]:
    """Parity on the untouched columns (keys included), and every new column present."""
    untouched = [c for c in expect.columns if c in v2_columns and c not in changed]
    compared = untouched or expect.key
    written = ([r for _, r in v1.records if r is not None],
               [r for _, r in v2.records if r is not None]) if v1.upsert and v2.upsert else None
    result = parity(v1.rows(), v2.rows(), key=expect.key[0] if len(expect.key) == 1
                    else expect.key, columns=compared, name=expect.table, written=written)
    results = [CheckResult(result.name, result.ok, result.summary,
                           {**result.evidence, "compared": compared,
                            "not_compared (changed by the change)": sorted(changed)})]
    new = [c for c in v2_columns if c not in expect.columns]
    if new:
        rows = v2.rows()
        lacking = {c: sum(1 for r in rows if c not in r) for c in new}
        nulls = {c: sum(1 for r in rows if r.get(c) is None) for c in new}
        results.append(CheckResult(
            f"new_columns_present({v2.table})", bool(rows) and not any(lacking.values()),
            f"{len(new)} new columns {new} in {len(rows)} rows; rows lacking them: "
            f"{sum(lacking.values())}",
            {"columns": new, "rows": len(rows), "lacking": lacking, "nulls": nulls,
             "examples": [r for r in rows if any(c not in r for c in new)][:EXAMPLES]}))
    return results
