"""Column lineage of a pipeline: where each column comes from, and what data must satisfy.

:class:`ProductLineage` reads every statement of a :class:`~harness.pipeline.model.
PipelineModel` once (:mod:`harness.pipeline.predicates` parses and reads conditions,
:mod:`harness.pipeline.resolve` follows columns) and answers what synthetic data
and checks need: which external (raw) column a table's column copies (:meth:`~ProductLineage.
origins`), which external columns must share values because statements join on them
(:meth:`~ProductLineage.key_links`), the identity key of an external table, the filters a
statement applies (:meth:`~ProductLineage.shape`) and, for an external without DDL, the
columns the statements read from it (:meth:`~ProductLineage.infer_columns`).

Resolution follows the SELECT scopes of each statement (subqueries, CTEs, window TVFs) and
the tables it reads, recursively, down to external tables. A column that is computed (any
expression other than a column reference, an alias or a CAST) has no origin. What cannot be
read is never an exception but a ``file:line`` entry of :attr:`ProductLineage.warnings`; only
:meth:`~ProductLineage.infer_columns` raises, when an external's columns cannot be known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from harness.data.schema import Column, SchemaError, primary_key_from_ddl
from harness.pipeline import predicates as sql
from harness.pipeline.model import PipelineModel
from harness.pipeline.predicates import ParsedStatement
from harness.pipeline.resolve import ColumnRef, ColumnResolver, LineageError

__all__ = ["ColumnRef", "InferredColumns", "KeyLink", "LineageError", "Predicate",
           "ProductLineage", "StatementShape"]


@dataclass(frozen=True)
class KeyLink:
    """child.column must draw its values from the keys already sent for parent.column.

    Attributes:
        child: An external table's column.
        parent: An external table's column, the identity key of its table.
        statement: The table whose DML holds the equality.
        kind: ``join`` (an ON condition) or ``filter`` (a WHERE condition).
    """

    child: ColumnRef
    parent: ColumnRef
    statement: str
    kind: str


@dataclass(frozen=True)
class Predicate:
    """A simple filter on an external column that a generator can satisfy.

    Attributes:
        column: The external column.
        op: ``not_null``, ``between``, ``>=``, ``>``, ``<=``, ``<``, ``=``, ``<>`` or ``in``.
        values: The literals (int, float, str or bool): none for ``not_null``, low and high
            for ``between``, every listed value for ``in``.
        statement: The table whose DML filters.
    """

    column: ColumnRef
    op: str
    values: tuple[Any, ...]
    statement: str


@dataclass(frozen=True)
class StatementShape:
    """What one statement does, as far as data generation and checks care.

    Attributes:
        table: The table the statement fills.
        filters: WHERE/HAVING conjuncts (and ON conjuncts of inner joins other than column
            equalities), as SQL text, that are not simple predicates.
        predicates: Simple conjuncts, resolved to external columns; in any subquery too.
        aggregates: GROUP BY or an aggregate function is present.
        windowed: A TUMBLE/HOP/CUMULATE/SESSION window TVF or GROUP BY window is present.
        outer_joins: A LEFT, RIGHT or FULL join is present.
        dedup_keys: PARTITION BY columns of a ``ROW_NUMBER() ... = 1`` deduplication.
        parse_error: Why sqlglot could not read the statement; then everything else is empty.
    """

    table: str
    filters: tuple[str, ...]
    predicates: tuple[Predicate, ...]
    aggregates: bool
    windowed: bool
    outer_joins: bool
    dedup_keys: tuple[str, ...]
    parse_error: str = ""


@dataclass(frozen=True)
class InferredColumns:
    """The columns of an external table without DDL, as its readers use them.

    Attributes:
        table: The external table.
        columns: Its columns in the order they are first read.
        inferred_from: Column name to ``file:line`` and how its type was chosen.
    """

    table: str
    columns: list[Column]
    inferred_from: dict[str, str]


@dataclass
class _Analysis:
    shape: StatementShape
    dedup_origins: set[ColumnRef] = field(default_factory=set)


class ProductLineage(ColumnResolver):
    """Lineage of every table of a pipeline; answers are computed once and cached.

    Attributes:
        model: The pipeline.
        warnings: ``file:line`` messages for everything the analysis did not understand.
    """

    def __init__(self, model: PipelineModel) -> None:
        super().__init__(model)
        self._analyses: dict[str, _Analysis] = {}
        self._keys: dict[str, str | None] = {}
        for name in model.topological_order():
            self.statement(name)
        self._links = self._find_links()

    def path(self, table: str) -> list[str]:
        """Every non-external table upstream of ``table`` and itself, in topological order."""
        seen, todo = set(), [table]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(self.model.table(name).parents)
        return [n for n in self.model.topological_order()
                if n in seen and not self.model.tables[n].is_external]

    # -- statement shapes ----------------------------------------------------------------

    def shape(self, table: str) -> StatementShape:
        """Filters, simple predicates, aggregation, windows, outer joins and dedup of a DML."""
        return self._analysis(table).shape

    def _analysis(self, table: str) -> _Analysis:
        if table not in self._analyses:
            parsed = self.statement(table)
            if parsed is None or parsed.root is None:
                error = parsed.error if parsed is not None else ""
                empty = StatementShape(table, (), (), False, False, False, (), error)
                self._analyses[table] = _Analysis(empty)
            else:
                self._analyses[table] = self._analyse(table, parsed, parsed.root)
        return self._analyses[table]

    def _analyse(self, table: str, parsed: ParsedStatement, root: Scope) -> _Analysis:
        filters: list[str] = []
        found: list[Predicate] = []
        keys: list[str] = []
        dedup_origins: set[ColumnRef] = set()
        for scope in root.traverse():
            dedup = self._dedup(scope)
            if dedup is not None:
                keys += [p.name for p in dedup[1] if isinstance(p, exp.Column)]
                for part in dedup[1]:
                    dedup_origins |= self.expression(part, dedup[2])
            for term in _conditions(scope):
                if (dedup is not None and term is dedup[0]) or sql.column_equality(term):
                    continue
                simple = sql.simple_predicate(term)
                refs = self.expression(simple.column, scope) if simple is not None else set()
                if simple is None or not refs:
                    filters.append(sql.condition_text(term, parsed.sql))
                else:
                    found += [Predicate(r, simple.op, simple.values, table) for r in sorted(refs)]
        query = root.expression
        shape = StatementShape(
            table, tuple(dict.fromkeys(filters)), tuple(dict.fromkeys(found)),
            _has_aggregates(query), _is_windowed(query), _has_outer_join(query),
            tuple(dict.fromkeys(keys)))
        return _Analysis(shape, dedup_origins)

    def _dedup(self, scope: Scope) -> tuple[exp.Expr, list[exp.Expr], Scope] | None:
        """The ``rn = 1`` term, PARTITION BY expressions and inner scope of a dedup."""
        where = scope.expression.args.get("where")
        for term in sql.conjuncts(where.this if where is not None else None):
            column = sql.row_limit_one(term)
            source = self.source(scope, column.table, column.name) if column else None
            if column is None or not isinstance(source, Scope):
                continue
            selects = source.expression.selects if isinstance(
                source.expression, exp.Select) else []
            for item in selects:
                parts = sql.dedup_partition(item) if item.alias_or_name == column.name else None
                if parts:
                    return term, parts, source
        return None

    # -- keys ----------------------------------------------------------------------------

    def source_key(self, external: str) -> str | None:
        """The identity column of an external table, or None when nothing shows one.

        Its DDL's single-column PRIMARY KEY; else the column whose origin fills the
        single-column PRIMARY KEY of a non-aggregating table reading it directly; else the
        single PARTITION BY column of a deduplication reading it.
        """
        if external not in self._keys:
            self._keys[external] = self._find_key(external)
        return self._keys[external]

    def _find_key(self, external: str) -> str | None:
        table = self.model.table(external)
        key = _primary_key(table.ddl)
        if len(key) == 1:
            return key[0]
        children = self.model.children(external)
        for child in children:
            key = _primary_key(self.model.tables[child].ddl)
            if len(key) == 1 and not self.shape(child).aggregates:
                for ref in sorted(self.origins(child, key[0])):
                    if ref.table == external:
                        return ref.column
        for child in children:
            analysis = self._analysis(child)
            refs = sorted(r for r in analysis.dedup_origins if r.table == external)
            if len(analysis.shape.dedup_keys) == 1 and refs:
                return refs[0].column
        return None

    def key_links(self) -> list[KeyLink]:
        """Equalities between external columns of different inputs, child to parent key.

        From JOIN ON and WHERE equalities ``a.x = b.y``, both sides traced to external
        columns; the parent is the side that is its table's :meth:`source_key`. One link per
        pair, from the first statement in topological order.
        """
        return list(self._links)

    def _find_links(self) -> list[KeyLink]:
        links: dict[tuple[ColumnRef, ColumnRef], KeyLink] = {}
        for table in self.model.topological_order():
            parsed = self.statement(table)
            if parsed is None or parsed.root is None:
                continue
            for scope in parsed.root.traverse():
                for term, kind in _equalities(scope):
                    self._link(parsed, scope, term, kind, links)
        return list(links.values())

    def _link(self, parsed: ParsedStatement, scope: Scope, term: exp.Expr, kind: str,
              links: dict[tuple[ColumnRef, ColumnRef], KeyLink]) -> None:
        pair = sql.column_equality(term)
        if pair is None:
            return
        left, right = pair
        source = self.source(scope, left.table, left.name)
        if source is not None and source is self.source(scope, right.table, right.name):
            return  # both sides read the same input
        ends = [self.expression(side, scope) for side in pair]
        where = f"{parsed.path}:{parsed.line_of(term)}"
        if not ends[0] or not ends[1]:
            self._warn(f"{where}: cannot trace both sides of {term.sql(dialect=sql.DIALECT)} "
                       f"in {parsed.table} to external columns; no key link derived from it")
        for a in sorted(ends[0]):
            for b in sorted(ends[1]):
                if a.table == b.table:
                    continue
                child, parent, sure = self._orient(a, b)
                if (child, parent) not in links and (parent, child) not in links:
                    links[(child, parent)] = KeyLink(child, parent, parsed.table, kind)
                    if not sure:
                        self._warn(f"{where}: neither {a.table}.{a.column} nor "
                                   f"{b.table}.{b.column} is its table's key; taking "
                                   f"{parent.table}.{parent.column} as the parent")

    def _orient(self, a: ColumnRef, b: ColumnRef) -> tuple[ColumnRef, ColumnRef, bool]:
        """``(child, parent, certain)``: the parent is the side that is a key."""
        a_key = self.source_key(a.table) == a.column
        b_key = self.source_key(b.table) == b.column
        if a_key != b_key:
            return (b, a, True) if a_key else (a, b, True)
        first, second = sorted((a, b))
        return second, first, a_key

    # -- columns of externals ------------------------------------------------------------

    def columns(self, external: str) -> list[Column]:
        """The physical columns of an external's DDL; inferred when it has none."""
        declared = self._ddl.get(self.model.table(external).name)
        return list(declared) if declared is not None else self.infer_columns(external).columns

    def infer_columns(self, external: str) -> InferredColumns:
        """The columns statements read from an external table without DDL, with types.

        Each column read (qualified by the external's alias, or unqualified where it is the
        only input) takes the DDL type of the target column it is copied into unchanged,
        else TIMESTAMP(3) when it is a window's DESCRIPTOR, else the type of a literal it is
        compared with (or of a declared column it is equated with), else STRING (also when
        it is only read through a CAST). A table with DDL gets its declared columns.

        Raises:
            LineageError: A statement reads ``SELECT *`` from it, or none reads a column.
        """
        table = self.model.table(external)
        declared = self._ddl.get(external)
        if declared is not None:
            where = f"{table.ddl_path or '<DDL of ' + external + '>'}: declared in the DDL"
            return InferredColumns(external, list(declared), {c.name: where for c in declared})
        columns, why = self.read_columns(external, self.source_key(external))
        return InferredColumns(external, columns, why)


def _primary_key(ddl: str) -> list[str]:
    if not ddl:
        return []
    try:
        return primary_key_from_ddl(ddl)
    except SchemaError:
        return []


def _conditions(scope: Scope) -> list[exp.Expr]:
    """WHERE and HAVING conjuncts of a scope, and ON conjuncts of its inner joins."""
    select = scope.expression
    terms: list[exp.Expr] = []
    for clause in ("where", "having"):
        node = select.args.get(clause)
        terms += sql.conjuncts(node.this if node is not None else None)
    for join in select.args.get("joins") or []:
        if not join.side:
            terms += sql.conjuncts(join.args.get("on"))
    return terms


def _equalities(scope: Scope) -> list[tuple[exp.Expr, str]]:
    """Column equalities of a scope's JOIN ON (``join``) and WHERE (``filter``) clauses."""
    select = scope.expression
    found = [(term, "join") for join in select.args.get("joins") or []
             for term in sql.conjuncts(join.args.get("on"))]
    where = select.args.get("where")
    found += [(term, "filter") for term in sql.conjuncts(where.this if where else None)]
    return [(term, kind) for term, kind in found if sql.column_equality(term)]


def _is_windowed(query: exp.Expr) -> bool:
    """True with a window TVF source or a GROUP BY TUMBLE/HOP/SESSION window."""
    if any(sql.window_table(t) for t in query.find_all(exp.Table)):
        return True
    return any(sql.function_name(e) in sql.WINDOW_TVFS for group in query.find_all(exp.Group)
               for e in group.expressions)


def _has_aggregates(query: exp.Expr) -> bool:
    """True with a GROUP BY or an aggregate function outside an OVER window."""
    if any(True for _ in query.find_all(exp.Group)):
        return True
    return any(agg.find_ancestor(exp.Window) is None for agg in query.find_all(exp.AggFunc))


def _has_outer_join(query: exp.Expr) -> bool:
    """True with a LEFT, RIGHT or FULL join."""
    return any(str(j.side).upper() in ("LEFT", "RIGHT", "FULL")
               for j in query.find_all(exp.Join))
