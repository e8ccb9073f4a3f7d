"""The data plan of a product: which external source gets how many records, keyed how,
with which columns drawn from which parent's keys, and which values the filters need.

Everything comes from the SQL (see :mod:`harness.pipeline.lineage`):

* columns from each external's DDL, or inferred from how the statements read it;
* the key of each source (its identity column);
* join and filter equalities ``a.x = b.y`` make the child's column draw from the keys
  already sent for the parent, so every inner join produces output;
* simple filters on source columns (``IS NOT NULL``, ``BETWEEN``, comparisons with a
  literal, ``IN``) shape the values, so the rows pass them and the ledger says exactly
  what must reach each sink;
* sources read through a dedup (``ROW_NUMBER() ... = 1``) get duplicate events re-sent
  on purpose, which the dedup must collapse;
* a column the source's DDL declares a ``WATERMARK`` on (directly, or through a computed
  column over it) is event time: its values advance with the record sequence, so windows
  close and nothing is late. Statements that window such a source are noted: their last
  window never closes, which is expected (their sinks are checked by parity with v1).

Parents are seeded before children; a parent gets fewer records than its children.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.data.schema import Column
from harness.errors import CutoverError
from harness.pipeline.lexer import Lexeme, UnterminatedError, lex_strict
from harness.pipeline.lineage import ColumnRef, Predicate, ProductLineage
from harness.pipeline.model import PipelineModel

FANOUT = 6  # children per parent key, on average
MIN_PARENT_RECORDS = 3
DUPLICATES_PCT = 10.0  # of a dedup source's records, re-sent unchanged
EVENT_TIME_BASE = dt.datetime(2024, 1, 1)  # event time of record 0 (UTC)
EVENT_TIME_STEP_S = 1  # event time advances this many seconds a record
EVENT_TIME_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_LTZ", "BIGINT", "STRING", "VARCHAR"})


class DataPlanError(CutoverError):
    """Synthetic data cannot be planned for a source; the message names the fix."""


@dataclass(frozen=True)
class SourcePlan:
    """How one external source is fed.

    Attributes:
        table: The external table.
        key: Its identity column (the Kafka key and the ledger key).
        columns: Physical columns to generate.
        count: Records sent when the product is seeded.
        references: Column -> the parent key it draws from.
        predicates: Column -> simple filters its values must pass.
        duplicates_pct: Share of records re-sent as duplicate events (dedup sources).
        inferred: Column -> where its type was inferred from (no DDL for the source).
        key_chosen: Why this key: ``ddl``, ``lineage``, or a warning when guessed.
        event_time: Columns whose values advance with the record sequence, because the
            DDL declares a WATERMARK on them (or on a computed column over them).
        windows: Statements that aggregate the source's rows over event-time windows,
            directly or downstream; their last window never closes.
    """

    table: str
    key: str
    columns: list[Column]
    count: int
    references: dict[str, ColumnRef] = field(default_factory=dict)
    predicates: dict[str, list[Predicate]] = field(default_factory=dict)
    duplicates_pct: float = 0.0
    inferred: dict[str, str] = field(default_factory=dict)
    key_chosen: str = "lineage"
    event_time: tuple[str, ...] = ()
    windows: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "key": self.key, "records": self.count,
                "columns": [f"{c.name} {c.type}" for c in self.columns],
                "references": {c: f"{r.table}.{r.column}" for c, r in self.references.items()},
                "predicates": {c: [f"{p.op} {list(p.values)}" for p in ps]
                               for c, ps in self.predicates.items()},
                "duplicates_pct": self.duplicates_pct, "inferred": dict(self.inferred),
                "key_chosen": self.key_chosen, "event_time": list(self.event_time),
                "windows": list(self.windows)}


@dataclass(frozen=True)
class DataPlan:
    """Every external source of a product, parents first."""

    sources: list[SourcePlan]
    warnings: list[str] = field(default_factory=list)

    def source(self, table: str) -> SourcePlan:
        for plan in self.sources:
            if plan.table == table:
                return plan
        raise DataPlanError(f"no external source {table!r} in the data plan; sources are "
                            f"{', '.join(p.table for p in self.sources)}")

    @property
    def leaves(self) -> list[str]:
        """Sources no other source references: the ones to keep feeding live."""
        parents = {r.table for p in self.sources for r in p.references.values()}
        return [p.table for p in self.sources if p.table not in parents]

    def to_json(self) -> dict[str, Any]:
        return {"sources": [p.to_json() for p in self.sources], "warnings": self.warnings}

    def render_text(self) -> str:
        """The plan as a person reads it: one line a source, then its details."""
        lines = []
        for p in self.sources:
            refs = ", ".join(f"{c} from {r.table}.{r.column}" for c, r in p.references.items())
            lines.append(f"SOURCE    {p.table}: {p.count} records keyed by {p.key}"
                         + (f"; {refs}" if refs else "")
                         + (f"; {p.duplicates_pct:g} % re-sent as duplicates (dedup)"
                            if p.duplicates_pct else ""))
            for column, ps in p.predicates.items():
                shown = " and ".join(dict.fromkeys(
                    f"{q.op} {', '.join(map(str, q.values))}".strip() for q in ps))
                lines.append(f"            {column}: values pass {shown}")
            for column, why in p.inferred.items():
                lines.append(f"            {column}: inferred ({why})")
            for column in p.event_time:
                lines.append(f"            {column}: event time, advancing ({EVENT_TIME_BASE} "
                             f"+ {EVENT_TIME_STEP_S} s a record; WATERMARK in the DDL)")
            if p.windows:
                lines.append(f"            windowed by {', '.join(p.windows)}: the last window "
                             "never closes (expected); checked by parity with v1")
        lines += [f"WARNING   {w}" for w in self.warnings]
        return "\n".join(lines)


def _predicates(lineage: ProductLineage, model: PipelineModel) -> dict[ColumnRef, list[Predicate]]:
    found: dict[ColumnRef, list[Predicate]] = {}
    for name, table in model.tables.items():
        if table.is_external:
            continue
        for predicate in lineage.shape(name).predicates:
            if predicate not in found.setdefault(predicate.column, []):
                found[predicate.column].append(predicate)
    return found


def source_predicates(lineage: ProductLineage, model: PipelineModel,
                      table: str) -> dict[str, list[Predicate]]:
    """Column -> the simple filters the statements apply to external ``table``'s values
    (what generated rows must pass to reach the outputs)."""
    return {ref.column: found for ref, found in _predicates(lineage, model).items()
            if ref.table == table}


def _dedup_sources(lineage: ProductLineage, model: PipelineModel) -> set[str]:
    """Externals read directly by a statement that deduplicates its input."""
    dedup: set[str] = set()
    for name, table in model.tables.items():
        if not table.is_external and lineage.shape(name).dedup_keys:
            dedup.update(p for p in table.parents if model.tables[p].is_external)
    return dedup


def event_time_columns(ddl: str, physical: Iterable[str]) -> list[str]:
    """The physical columns whose values a DDL's ``WATERMARK FOR <col> AS ...`` reads.

    The watermark's column itself when it is physical, else the physical columns the
    computed column it names is made of (``ts AS TO_TIMESTAMP_LTZ(ts_ms, 3)`` gives
    ``ts_ms``). Comments and quoted text are not read; a DDL that cannot be lexed has none.

    Args:
        ddl: A CREATE TABLE statement.
        physical: Its physical column names.
    """
    names = set(physical)
    try:
        entries = _column_entries(lex_strict(ddl))
    except UnterminatedError:
        return []
    computed = {e[0].text: e[2:] for e in entries
                if len(e) > 2 and e[0].is_name and e[1].upper == "AS"}
    found: list[str] = []
    for entry in entries:
        if len(entry) > 2 and entry[0].upper == "WATERMARK" and entry[1].upper == "FOR" \
                and entry[2].is_name:
            rowtime = entry[2].text
            if rowtime in names:
                found.append(rowtime)
            else:
                found += [x.text for x in computed.get(rowtime, []) if x.is_name
                          and x.text in names]
    return list(dict.fromkeys(found))


def _column_entries(lexemes: list[Lexeme]) -> list[list[Lexeme]]:
    """The comma-separated entries of a CREATE TABLE's column list, as lexemes."""
    entries: list[list[Lexeme]] = [[]]
    depth = 0
    seen_table = False
    for lexeme in lexemes:
        symbol = lexeme.text if lexeme.kind == "symbol" else ""
        if depth == 0 and not seen_table:
            seen_table = lexeme.upper == "TABLE"
            continue
        if depth == 0 and lexeme.upper in ("WITH", "AS", "LIKE"):
            break
        if symbol == "(":
            depth += 1
            if depth == 1:
                continue
        elif symbol == ")":
            depth -= 1
            if depth == 0:
                break
        elif symbol == "," and depth == 1:
            entries.append([])
            continue
        if depth >= 1:
            entries[-1].append(lexeme)
    return [e for e in entries if e]


def _event_time(model: PipelineModel, name: str, columns: list[Column],
                warnings: list[str]) -> tuple[str, ...]:
    """The source's event-time columns whose type the generator can advance."""
    ddl = model.tables[name].ddl
    if not ddl:
        return ()
    found = []
    for column_name in event_time_columns(ddl, [c.name for c in columns]):
        column = next(c for c in columns if c.name == column_name)
        if column.data_type.name in EVENT_TIME_TYPES:
            found.append(column_name)
        else:
            warnings.append(f"{model.tables[name].ddl_path or name}: the WATERMARK of "
                            f"{name!r} reads {column_name} {column.type}, which cutover "
                            "cannot advance; its values are random, so windows over it may "
                            "not close: make it a TIMESTAMP(3) or BIGINT epoch millis column")
    return tuple(found)


def _windows(model: PipelineModel, lineage: ProductLineage) -> dict[str, list[str]]:
    """External -> statements that aggregate over windows of it, directly or downstream."""
    found: dict[str, list[str]] = {}
    for name in model.topological_order():
        table = model.tables[name]
        if table.is_external or not lineage.shape(name).windowed:
            continue
        seen: set[str] = set()
        todo = list(table.parents)
        while todo:
            parent = todo.pop()
            if parent not in seen:
                seen.add(parent)
                todo.extend(model.table(parent).parents)
        for parent in sorted(seen):
            if model.tables[parent].is_external:
                found.setdefault(parent, []).append(name)
    return found


def _order(externals: list[str], references: dict[str, dict[str, ColumnRef]]) -> list[str]:
    """Parents before children; a reference cycle is broken at the first name."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        for ref in references.get(name, {}).values():
            if ref.table != name:
                visit(ref.table)
        order.append(name)

    for name in externals:
        visit(name)
    return order


def _counts(order: list[str], references: dict[str, dict[str, ColumnRef]],
            records: int) -> dict[str, int]:
    counts = {name: records for name in order}
    for name in reversed(order):  # children before parents
        for ref in references.get(name, {}).values():
            if ref.table != name:
                share = max(MIN_PARENT_RECORDS, counts[name] // FANOUT)
                counts[ref.table] = min(counts[ref.table], share)
    return counts


def _key(lineage: ProductLineage, table: str, columns: list[Column],
         warnings: list[str]) -> tuple[str, str]:
    key = lineage.source_key(table)
    if key is not None:
        return key, "lineage"
    if not columns:
        raise DataPlanError(f"external source {table!r} has no columns to generate")
    warnings.append(f"no key found for source {table!r} (no PRIMARY KEY, no keyed table reads "
                    f"it directly); its records are keyed by its first column "
                    f"{columns[0].name!r}: add a PRIMARY KEY to its DDL to choose another")
    return columns[0].name, "first column (guessed)"


def plan_data(model: PipelineModel, lineage: ProductLineage, *, records: int,
              feedable: Callable[[str], str | None] = lambda table: None) -> DataPlan:
    """Plan synthetic data for every external source of ``model``.

    Args:
        model: The product as deployed first (REF1).
        lineage: Its lineage.
        records: Records of each leaf source (the ones no other source references).
        feedable: Returns why a source cannot be fed with synthetic Kafka records (e.g. a
            CDC topic), or None when it can.

    Raises:
        DataPlanError: A source cannot be fed, or its columns cannot be known.
    """
    if records < 1:
        raise DataPlanError(f"--records must be at least 1, not {records}")
    warnings = list(lineage.warnings)
    externals = [n for n in model.topological_order() if model.tables[n].is_external]
    for name in externals:
        why = feedable(name)
        if why:
            raise DataPlanError(f"source {name!r} cannot be fed with synthetic records: {why}")
    references: dict[str, dict[str, ColumnRef]] = {}
    for link in lineage.key_links():
        if link.child.table != link.parent.table:
            references.setdefault(link.child.table, {})[link.child.column] = link.parent
    predicates = _predicates(lineage, model)
    dedup = _dedup_sources(lineage, model)
    order = _order(externals, references)
    counts = _counts(order, references, records)
    windows = _windows(model, lineage)
    sources = []
    for name in order:
        columns = [c for c in lineage.columns(name) if not c.name.startswith("$")]
        inferred = {} if model.tables[name].ddl else {
            c: why for c, why in lineage.infer_columns(name).inferred_from.items()
            if not c.startswith("$")}  # system columns are not generated
        key, chosen = _key(lineage, name, columns, warnings)
        event_time = tuple(c for c in _event_time(model, name, columns, warnings)
                           if c != key and c not in references.get(name, {}))
        parent = references.get(name, {}).get(key)
        count = counts[parent.table] if parent is not None else counts[name]  # one each
        sources.append(SourcePlan(
            table=name, key=key, columns=columns, count=count,
            references=references.get(name, {}),
            predicates={c.name: predicates[ColumnRef(name, c.name)] for c in columns
                        if ColumnRef(name, c.name) in predicates},
            duplicates_pct=DUPLICATES_PCT if name in dedup else 0.0,
            inferred=inferred, key_chosen=chosen, event_time=event_time,
            windows=tuple(windows.get(name, ())) if event_time else ()))
    return DataPlan(sources, warnings)
