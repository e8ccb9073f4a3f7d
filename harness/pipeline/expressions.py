"""The expression that fills each column of a statement's target, as comparable text.

Used to tell which columns a change touched: a column of ``x_v2`` whose expression and
inputs equal those of ``x`` must hold the same values (parity); one whose expression
differs, or that reads a changed column of a redeployed parent, may not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from harness.pipeline.sqlrefs import DIALECT, _lift_window_tables, _quiet_sqlglot

_VERSION = re.compile(r"_v\d+\b")


@dataclass(frozen=True)
class ColumnExpression:
    """One target column: its expression's text and the column names it reads."""

    text: str
    reads: frozenset[str]


def _projections(dml: str) -> tuple[list[str], list[exp.Expression]] | None:
    _, lifted = _lift_window_tables(dml)
    with _quiet_sqlglot():
        try:
            tree = sqlglot.parse_one(lifted, read=DIALECT)
        except SqlglotError:
            return None
    insert = tree if isinstance(tree, exp.Insert) else tree.find(exp.Insert)
    if insert is None:
        return None
    listed = [c.name for c in insert.this.expressions] if isinstance(insert.this, exp.Schema) \
        else []
    select = insert.expression
    while isinstance(select, exp.Subquery):
        select = select.this
    if isinstance(select, exp.Union):
        select = select.left
    if not isinstance(select, exp.Select):
        return None
    return listed, list(select.expressions)


def column_expressions(dml: str, target_columns: list[str]) -> dict[str, ColumnExpression]:
    """Target column -> its expression, by the INSERT column list or position.

    Table names are normalised (``_vN`` suffixes removed) so that the renamed DML of a
    redeployed statement compares equal to the original when only names moved. Returns
    an empty dict when the statement cannot be parsed or is not INSERT ... SELECT.
    """
    found = _projections(dml)
    if found is None:
        return {}
    listed, projections = found
    names = listed or target_columns
    result = {}
    for name, projection in zip(names, projections, strict=False):
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(inner, exp.Star):
            return {}
        text = _VERSION.sub("", inner.sql(dialect=DIALECT))
        reads = frozenset(c.name for c in inner.find_all(exp.Column))
        result[name] = ColumnExpression(text, reads)
    return result
