"""One statement's syntax tree for lineage: parsing it, and reading its conditions.

:func:`parse_statement` parses the INSERT (or CREATE TABLE ... AS) that fills a table with
sqlglot's Spark dialect, as :mod:`harness.pipeline.sqlrefs` does, but case-sensitive like
Flink, and qualifies its columns (``sqlglot.optimizer.qualify``) where the DDL of the tables
it reads allows. The other functions read pieces of such a tree: the conjuncts of a
condition, simple predicates (``col op literal``), column equalities, the ``row_num = 1``
filter of a deduplication, window table functions, and the source text of a condition.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import Schema

from harness.pipeline.lexer import lex, split_statements, statement_kind
from harness.pipeline.model import TableStatement
from harness.pipeline.sqlrefs import _first_line, _lift_window_tables, _quiet_sqlglot, _target

DIALECT = Dialect.get_or_raise("spark, normalization_strategy=case_sensitive")
WINDOW_TVFS = frozenset({"TUMBLE", "HOP", "CUMULATE", "SESSION"})
WINDOW_COLUMNS = frozenset({"window_start", "window_end", "window_time"})
VALUES_ONLY = "INSERT ... VALUES: literal rows, no SELECT to trace"
COMPARISONS: dict[type[exp.Expr], str] = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">",
                                          exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
_FLIPPED = {"=": "=", "<>": "<>", ">": "<", ">=": "<=", "<": ">", "<=": ">="}
_ROW_LIMIT_ONE = {("=", 1), ("<=", 1), ("<", 2)}


@dataclass
class ParsedStatement:
    """The statement that fills one table, parsed.

    Attributes:
        table: The table it fills.
        path: File of the DML.
        line: Line of that file on which the statement starts.
        sql: The statement text, window ``TABLE t`` arguments blanked out.
        root: Scope of the SELECT (qualified where possible); None when it cannot be read.
        targets: Target column to the SELECT position filling it, or None to match the
            SELECT's output names.
        error: Why the statement could not be read, ``""`` when it could.
        error_line: File line of the error.
        width: Items of the SELECT list of an INSERT that names no target columns and
            selects no ``*`` (Flink matches them to the DDL by position); else None.
    """

    table: str
    path: str
    line: int
    sql: str = ""
    root: Scope | None = None
    targets: dict[str, int | None] = field(default_factory=dict)
    error: str = ""
    error_line: int = 0
    width: int | None = None

    @property
    def where(self) -> str:
        """``file:line`` of the statement."""
        return f"{self.path}:{self.line}"

    def line_of(self, node: exp.Expr) -> int:
        """File line of the first token of ``node`` that sqlglot located."""
        for part in node.walk():
            if isinstance(part, exp.Expr) and "line" in part.meta:
                return self.line + int(part.meta["line"]) - 1
        return self.line


def _writing_statement(table: TableStatement) -> tuple[str, int] | None:
    found = [s for s in split_statements(table.dml) if statement_kind(s.text) in ("dml", "ctas")]
    mine = [s for s in found if _target(lex(s.text)) == table.name] or found
    return (mine[0].text, mine[0].line) if mine else None


def _parse_tree(parsed: ParsedStatement) -> exp.Expr | None:
    """The single INSERT/CREATE tree of the statement; sets ``error`` when there is none."""
    try:
        with _quiet_sqlglot():
            trees = [t for t in sqlglot.parse(parsed.sql, read=DIALECT) if t is not None]
    except ParseError as exc:
        line = exc.errors[0].get("line") if exc.errors else None
        parsed.error = _first_line(exc)
        parsed.error_line = parsed.line + (line - 1 if isinstance(line, int) else 0)
        return None
    except SqlglotError as exc:
        parsed.error = _first_line(exc)
        return None
    if len(trees) == 1 and isinstance(trees[0], exp.Insert) and \
            isinstance(trees[0].expression, exp.Values):
        parsed.error = VALUES_ONLY
        return None
    if len(trees) != 1 or not isinstance(trees[0], exp.Insert | exp.Create) \
            or not isinstance(trees[0].expression, exp.Query):
        parsed.error = "unsupported syntax, not an INSERT ... SELECT sqlglot can read"
        return None
    return trees[0]


def parse_statement(table: TableStatement, schema: Schema,
                    ddl_columns: list[str] | None) -> ParsedStatement:
    """Parse and qualify the statement that fills ``table``; never raises on bad SQL.

    Args:
        table: A table with DML.
        schema: Columns of every table with a readable DDL, for qualifying columns.
        ddl_columns: The target's physical DDL columns, None without a readable DDL.

    Returns:
        The parsed statement; ``error`` says why it could not be read.
    """
    parsed = ParsedStatement(table.name, str(table.dml_path or f"<DML of {table.name}>"), 1)
    found = _writing_statement(table)
    if found is None:
        parsed.error = "no INSERT INTO statement found"
        return parsed
    parsed.line = parsed.error_line = found[1]
    parsed.sql = _lift_window_tables(found[0])[1]
    tree = _parse_tree(parsed)
    if tree is None:
        return parsed
    query = tree.expression
    _note_condition_texts(query, parsed.sql)
    # Best effort: own resolution of qualifiers takes over where qualify gives up. Flink
    # has no select-alias references in WHERE or GROUP BY, so none are expanded.
    try:
        query = qualify(query.copy(), dialect=DIALECT, schema=schema, quote_identifiers=False,
                        expand_alias_refs=False, validate_qualify_columns=False)
    except Exception:  # sqlglot raises more than SqlglotError on odd trees
        query = tree.expression
    try:
        parsed.root = build_scope(query)
    except SqlglotError as exc:
        parsed.error = _first_line(exc)
    parsed.targets = _targets(tree, query, ddl_columns)
    select = _first_select(tree.expression)  # as written: a star's width is not known here
    if isinstance(tree, exp.Insert) and not isinstance(tree.this, exp.Schema) and \
            select is not None and not any(is_star(s) for s in select.selects):
        parsed.width = len(select.selects)
    return parsed


def _note_condition_texts(query: exp.Expr, sql: str) -> None:
    """Keep each condition's text as written, before qualifying rewrites the tree."""
    for select in query.find_all(exp.Select):
        terms = [t for c in ("where", "having") if (node := select.args.get(c)) is not None
                 for t in conjuncts(node.this)]
        terms += [t for join in select.args.get("joins") or [] for t in conjuncts(
            join.args.get("on"))]
        for term in terms:
            term.meta["text"] = condition_text(term, sql)


def _first_select(query: exp.Expr) -> exp.Select | None:
    while isinstance(query, exp.SetOperation | exp.Subquery):
        query = query.this
    return query if isinstance(query, exp.Select) else None


def _targets(tree: exp.Expr, query: exp.Expr, ddl_columns: list[str] | None) -> dict[
        str, int | None]:
    """Target columns and the SELECT positions filling them (None: match by name)."""
    select = _first_select(query)
    selects = select.selects if select is not None else []
    if any(is_star(s) for s in selects):
        return {name: None for name in ddl_columns or []}
    if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
        listed = [c.name for c in tree.this.expressions]
        return {name: i for i, name in enumerate(listed)}
    if ddl_columns is not None and len(ddl_columns) == len(selects):
        return {name: i for i, name in enumerate(ddl_columns)}
    return {s.alias_or_name: i for i, s in enumerate(selects) if s.alias_or_name}


def is_star(node: exp.Expr) -> bool:
    """True for ``*`` and ``t.*`` in a select list."""
    return isinstance(node, exp.Star) or (isinstance(node, exp.Column)
                                          and isinstance(node.this, exp.Star))


def unwrap(node: exp.Expr, *, casts: bool = True) -> exp.Expr:
    """``node`` without aliases, parentheses and (when ``casts``) CASTs around it."""
    kinds: tuple[type[exp.Expr], ...] = (exp.Alias, exp.Paren)
    if casts:
        kinds += (exp.Cast, exp.TryCast)
    while isinstance(node, kinds):
        node = node.this
    return node


def conjuncts(condition: exp.Expr | None) -> Iterator[exp.Expr]:
    """The top-level AND terms of a condition (nothing for None)."""
    if condition is None:
        return
    inner = condition.this if isinstance(condition, exp.Paren) else condition
    if isinstance(inner, exp.And):
        yield from conjuncts(inner.left)
        yield from conjuncts(inner.right)
    else:
        yield condition


def literal_value(node: exp.Expr) -> tuple[bool, Any]:
    """``(True, value)`` for a number, string or boolean literal, else ``(False, None)``."""
    node = node.this if isinstance(node, exp.Paren) else node
    if isinstance(node, exp.Neg):
        ok, value = literal_value(node.this)
        return (True, -value) if ok and isinstance(value, int | float) else (False, None)
    if isinstance(node, exp.Boolean):
        return True, bool(node.this)
    if not isinstance(node, exp.Literal):
        return False, None
    if node.is_string:
        return True, str(node.this)
    text = str(node.this)
    try:
        return True, int(text)
    except ValueError:
        try:
            return True, float(text)
        except ValueError:
            return False, None


def _column(node: exp.Expr) -> exp.Column | None:
    node = node.this if isinstance(node, exp.Paren) else node
    return node if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star) else None


@dataclass(frozen=True)
class Simple:
    """A simple predicate before its column is resolved."""

    column: exp.Column
    op: str
    values: tuple[Any, ...]


def simple_predicate(term: exp.Expr) -> Simple | None:
    """``col IS NOT NULL``, ``col BETWEEN a AND b``, ``col op lit``, ``lit op col``, ``col IN``."""
    if isinstance(term, exp.Not) and isinstance(term.this, exp.Is) \
            and isinstance(term.this.expression, exp.Null):
        column = _column(term.this.this)
        return Simple(column, "not_null", ()) if column is not None else None
    if isinstance(term, exp.Between):
        column, low, high = _column(term.this), literal_value(term.args["low"]), \
            literal_value(term.args["high"])
        ok = column is not None and low[0] and high[0]
        return Simple(column, "between", (low[1], high[1])) if ok and column else None
    if isinstance(term, exp.In) and not term.args.get("query"):
        column, values = _column(term.this), [literal_value(v) for v in term.expressions]
        ok = column is not None and bool(values) and all(v[0] for v in values)
        return Simple(column, "in", tuple(v[1] for v in values)) if ok and column else None
    op = COMPARISONS.get(type(term))
    if op is None:
        return None
    for col_side, lit_side, flip in ((term.this, term.expression, False),
                                     (term.expression, term.this, True)):
        column, literal = _column(col_side), literal_value(lit_side)
        if column is not None and literal[0]:
            return Simple(column, _FLIPPED[op] if flip else op, (literal[1],))
    return None


def column_equality(term: exp.Expr) -> tuple[exp.Column, exp.Column] | None:
    """The two columns of ``a.x = b.y`` (CASTs allowed around either), else None."""
    if not isinstance(term, exp.EQ):
        return None
    left, right = unwrap(term.this), unwrap(term.expression)
    if isinstance(left, exp.Column) and isinstance(right, exp.Column) \
            and not isinstance(left.this, exp.Star) and not isinstance(right.this, exp.Star):
        return left, right
    return None


def row_limit_one(term: exp.Expr) -> exp.Column | None:
    """The column of ``rn = 1``, ``rn <= 1`` or ``rn < 2`` (either side), else None."""
    simple = simple_predicate(term)
    if simple is None or len(simple.values) != 1 or isinstance(simple.values[0], bool):
        return None
    return simple.column if (simple.op, simple.values[0]) in _ROW_LIMIT_ONE else None


def dedup_partition(node: exp.Expr) -> list[exp.Expr] | None:
    """PARTITION BY expressions of ``ROW_NUMBER() OVER (PARTITION BY ...)``, else None."""
    node = unwrap(node, casts=False)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber):
        parts = node.args.get("partition_by") or []
        return list(parts) or None
    return None


def function_name(node: exp.Expr) -> str:
    """Upper-case name of a function call, ``""`` for anything else."""
    if isinstance(node, exp.Anonymous):
        return node.name.upper()
    return node.sql_name().upper() if isinstance(node, exp.Func) else ""


def window_table(table: exp.Table) -> str | None:
    """The table a window TVF source (``TABLE(TUMBLE(t, ...))``) reads, else None."""
    outer = table.this
    if function_name(outer) != "TABLE" or not outer.expressions:
        return None
    call = outer.expressions[0]
    if function_name(call) not in WINDOW_TVFS or not call.expressions:
        return None
    first = call.expressions[0]
    first = first.expression if isinstance(first, exp.Kwarg | exp.PropertyEQ) else first
    return first.name if isinstance(first, exp.Column | exp.Table) else None


def _bare(node: exp.Expr) -> exp.Expr:
    """A copy without column qualifiers, to compare conditions before and after qualify."""
    copy = node.copy()
    for column in copy.find_all(exp.Column):
        for part in ("table", "db", "catalog"):
            column.set(part, None)
    return copy


def condition_text(node: exp.Expr, sql: str) -> str:
    """The condition as written in ``sql`` when its span can be found, else regenerated.

    The span runs from the first to the last token sqlglot located in the condition, widened
    by a few tokens either side (``NOT``, ``NULL``, closing parentheses carry no position)
    until the text parses back to the same condition.
    """
    if "text" in node.meta:
        return str(node.meta["text"])
    spans = [(int(p.meta["start"]), int(p.meta["end"])) for p in node.walk()
             if isinstance(p, exp.Expr) and "start" in p.meta and "end" in p.meta]
    if spans:
        start, end = min(s for s, _ in spans), max(e for _, e in spans) + 1
        lexemes = lex(sql)
        starts = [start, *[x.start for x in lexemes if x.end <= start][-3:][::-1]]
        ends = [end, *[x.end for x in lexemes if x.start >= end][:4]]
        bare = _bare(node)
        for first in starts:
            for last in ends:
                if _same(sql[first:last].strip(), bare):
                    return sql[first:last].strip()
    return node.sql(dialect=DIALECT)


def _same(text: str, bare: exp.Expr) -> bool:
    """True when ``text`` parses to ``bare`` (ignoring column qualifiers)."""
    depth = 0
    for lexeme in lex(text):
        depth += {"(": 1, ")": -1}.get(lexeme.text, 0) if lexeme.kind == "symbol" else 0
        if depth < 0:
            return False
    if depth:
        return False
    try:
        with _quiet_sqlglot():
            return _bare(sqlglot.parse_one(text, read=DIALECT)) == bare
    except SqlglotError:
        return False


def literal_type(column: exp.Column) -> tuple[str, str] | None:
    """Flink type and literal text when ``column`` is compared with a literal, else None."""
    parent = column.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    others: list[exp.Expr] = []
    if isinstance(parent, exp.Between):
        others = [parent.args["low"], parent.args["high"]]
    elif isinstance(parent, exp.In):
        others = list(parent.expressions)
    elif parent is not None and type(parent) in COMPARISONS:
        others = [parent.expression if parent.this is column else parent.this]
    for other in others:
        ok, value = literal_value(other)
        if ok:
            kind = "BOOLEAN" if isinstance(value, bool) else "BIGINT" if isinstance(
                value, int) else "DOUBLE" if isinstance(value, float) else "STRING"
            return kind, other.sql(dialect=DIALECT)
    return None
