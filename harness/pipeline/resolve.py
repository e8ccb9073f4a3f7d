"""Tracing a column of a pipeline table back to the external columns it copies.

:class:`ColumnResolver` (the base of ``ProductLineage``) parses each statement once and
follows a column through its SELECT scopes (aliases, CASTs, subqueries, CTEs, window TVFs,
``*``) and the tables it reads, down to externals; and types the columns of DDL-less ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sqlglot import exp
from sqlglot.optimizer.scope import Scope
from sqlglot.schema import MappingSchema

from harness.data.schema import Column, SchemaError, columns_from_ddl
from harness.errors import CutoverError
from harness.pipeline import predicates as sql
from harness.pipeline.model import PipelineModel
from harness.pipeline.predicates import ParsedStatement, parse_statement
from harness.pipeline.timefunctions import CASTABLE, is_time_function


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column of a table."""

    table: str
    column: str


class LineageError(CutoverError):
    """The lineage cannot answer; the message names the file, line and fix."""


class ColumnResolver:
    """Parsed statements of a pipeline and column origins through them, cached.

    Attributes:
        model: The pipeline.
        warnings: ``file:line`` messages for everything the analysis did not understand.
    """

    def __init__(self, model: PipelineModel) -> None:
        self.model = model
        self.warnings: list[str] = []
        self._ddl: dict[str, list[Column] | None] = {n: self._read_ddl(n) for n in model.tables}
        schema: dict[str, object] = {name: {c.name: "STRING" for c in cols}
                  for name, cols in self._ddl.items() if cols}
        self._schema = MappingSchema(schema, dialect=sql.DIALECT)
        self._parsed: dict[str, ParsedStatement] = {}
        self._origins: dict[ColumnRef, set[ColumnRef]] = {}

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _read_ddl(self, name: str) -> list[Column] | None:
        table = self.model.tables[name]
        if not table.ddl:
            return None
        try:
            return columns_from_ddl(table.ddl)
        except SchemaError as exc:
            self._warn(f"{table.ddl_path or '<DDL of ' + name + '>'}:1: cannot read the "
                       f"columns of {name} ({exc}); its lineage is unknown")
            return None

    def ddl_columns(self, table: str) -> list[Column] | None:
        """The physical columns of ``table``'s DDL; None without a readable DDL."""
        return self._ddl.get(table)

    def statement(self, table: str) -> ParsedStatement | None:
        """The parsed statement filling ``table``; None for an external table."""
        known = self.model.table(table)
        if known.is_external:
            return None
        if table not in self._parsed:
            ddl = self._ddl[table]
            parsed = parse_statement(known, self._schema, [c.name for c in ddl] if ddl else None)
            self._parsed[table] = parsed
            if parsed.error == sql.VALUES_ONLY:
                self._warn(f"{parsed.where}: {table} is filled with literal VALUES (a seed); "
                           f"it reads no table, so it has no lineage and is not fed")
            elif parsed.error:
                self._warn(f"{parsed.path}:{parsed.error_line}: sqlglot cannot parse the DML "
                           f"of {table} ({parsed.error}); lineage, key links and filters of "
                           f"{table} are unknown")
            missing = [c.name for c in ddl or [] if c.name not in parsed.targets]
            if parsed.root is not None and missing:
                self._warn(f"{parsed.where}: the SELECT of {table} fills no DDL column "
                           f"{', '.join(missing)} (matched by position, else by name); their "
                           f"lineage is unknown")
        return self._parsed[table]

    def origins(self, table: str, column: str) -> set[ColumnRef]:
        """External columns that ``table.column`` copies unchanged; empty when computed.

        Aliases and CASTs keep an origin; subqueries, CTEs and upstream tables are followed.
        GROUP BY columns keep theirs, aggregated columns have none.
        """
        ref = ColumnRef(table, column)
        if ref not in self._origins:
            parsed = self.statement(table)
            if parsed is None:
                self._origins[ref] = {ref}
            elif parsed.root is None or column not in parsed.targets:
                self._origins[ref] = set()
            else:
                self._origins[ref] = self.output(parsed.root, column, parsed.targets[column])
        return set(self._origins[ref])

    def output(self, scope: Scope, name: str, position: int | None = None, *,
               strict: bool = False) -> set[ColumnRef]:
        """Origins of output ``name`` (or SELECT ``position``) of a scope.

        ``strict`` does not pass CASTs or read through other pipeline tables: it finds the
        external columns a statement reads directly and copies unchanged.
        """
        if scope.set_operation_scopes:
            found: set[ColumnRef] = set()
            for branch in scope.set_operation_scopes:
                found |= self.output(branch, name, position, strict=strict)
            return found
        select = scope.expression
        selects = select.selects if isinstance(select, exp.Select) else []
        if position is not None and position < len(selects):
            return self.expression(selects[position], scope, strict=strict)
        for item in selects:
            if not sql.is_star(item) and item.alias_or_name == name:
                return self.expression(item, scope, strict=strict)
        for item in selects:
            if sql.is_star(item):
                qualifier = item.table if isinstance(item, exp.Column) else ""
                found = self._through(scope, qualifier, name, strict)
                if found:
                    return found
        return set()

    def expression(self, node: exp.Expr, scope: Scope, *, strict: bool = False) -> set[
            ColumnRef]:
        """Origins of an expression of ``scope``: only column references have any."""
        node = sql.unwrap(node, casts=not strict)
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            return self._through(scope, node.table, node.name, strict)
        return set()

    def _through(self, scope: Scope, qualifier: str, name: str, strict: bool) -> set[
            ColumnRef]:
        source = self.source(scope, qualifier, name)
        if isinstance(source, Scope):
            return self.output(source, name, strict=strict)
        if not isinstance(source, exp.Table):
            return set()
        windowed = sql.window_table(source)
        if windowed is not None and name in sql.WINDOW_COLUMNS:
            return set()
        table = windowed or source.name
        cte = _cte(scope, table) if windowed else None
        if cte is not None:
            return self.output(cte, name, strict=strict)
        known = self.model.tables.get(table)
        if known is None:
            return set()
        if known.is_external:
            return {ColumnRef(table, name)}
        return set() if strict else self.origins(table, name)

    def source(self, scope: Scope, qualifier: str, name: str) -> exp.Table | Scope | None:
        """The FROM/JOIN source a column reads: by qualifier, else the one that has it."""
        if qualifier:
            here: Scope | None = scope
            while here is not None:
                if qualifier in here.selected_sources:
                    return here.selected_sources[qualifier][1]
                here = here.parent
            return None
        sources = [source for _, source in scope.selected_sources.values()]
        if len(sources) == 1:
            return sources[0]
        known = [s for s in sources if self._provides(s, name) is True]
        unknown = [s for s in sources if self._provides(s, name) is None]
        if len(known) == 1:
            return known[0]
        return unknown[0] if not known and len(unknown) == 1 else None

    def _provides(self, source: exp.Table | Scope, name: str) -> bool | None:
        """Whether a source has column ``name``; None when its columns are unknown."""
        if isinstance(source, Scope):
            while source.set_operation_scopes:
                source = source.set_operation_scopes[0]
            selects = source.expression.selects if isinstance(
                source.expression, exp.Select) else []
            if any(not sql.is_star(s) and s.alias_or_name == name for s in selects):
                return True
            return None if any(sql.is_star(s) for s in selects) else False
        windowed = sql.window_table(source)
        if windowed is not None and name in sql.WINDOW_COLUMNS:
            return True
        table = windowed or source.name
        columns = self._ddl.get(table)
        if columns is None:
            parsed = self._parsed.get(table)
            return name in parsed.targets if parsed is not None and parsed.targets else None
        return any(c.name == name for c in columns)

    # -- columns of an external table without DDL ------------------------------------------

    def read_columns(self, external: str, key: str | None) -> tuple[list[Column], dict[str, str]]:
        """The columns statements read from ``external``, typed, and why each type.

        A column copied unchanged into a target column takes that column's DDL type; a
        window's DESCRIPTOR column is TIMESTAMP(3); one compared with a literal takes the
        literal's type, one equated with a declared column that column's type; anything
        else is STRING. ``key`` is reported NOT NULL.

        Raises:
            LineageError: A statement reads ``SELECT *`` from it, or none reads a column.
        """
        found: dict[str, _Evidence] = {}
        readers = [r for r in self.model.children(external) if self.statement(r) is not None]
        for index, reader in enumerate(readers):
            parsed = self.statement(reader)
            if parsed is None or parsed.root is None:
                continue
            self._refuse_star(external, parsed, parsed.root)
            for name, evidence in self._evidence(external, parsed, parsed.root, index):
                known = found.get(name)
                if known is not None:
                    evidence = replace(min(known, evidence), first=min(known.first, evidence.first))
                found[name] = evidence
        if not found:
            raise LineageError(self._unknown(external, readers))
        names = sorted(found, key=lambda n: found[n].first)
        columns = [Column(n, found[n].type, nullable=n != key) for n in names]
        return columns, {n: found[n].why for n in names}

    def _unknown(self, external: str, readers: list[str]) -> str:
        parsed = [p for p in map(self.statement, readers) if p is not None]
        ddl = f"add {self._ddl_file(external, readers)} with CREATE TABLE {external} (...)"
        broken = [p for p in parsed if p.root is None]
        if broken:
            where = ", ".join(f"{p.path}:{p.error_line or p.line}" for p in broken)
            return (f"{where}: sqlglot cannot parse the DML of {broken[0].table} "
                    f"({broken[0].error or 'unreadable'}), so the columns it reads from "
                    f"{external} are unknown; fix that statement (an unfinished template "
                    f"or a typo is also invalid Flink SQL), or, if it is valid Flink SQL, "
                    f"{ddl} listing its columns")
        where = ", ".join(p.where for p in parsed) or f"<readers of {external}>"
        return (f"{where}: no statement reads a named column of {external}, so its "
                f"columns are unknown; {ddl} listing its columns")

    def _ddl_file(self, external: str, readers: list[str]) -> str:
        """Where the DDL of ``external`` would go, next to the folder of its first reader."""
        dml = self.model.tables[readers[0]].dml_path if readers else None
        if dml is None:
            return f"ddl.{external}.sql"
        if dml.parent.name == "sql-scripts":
            return str(dml.parent.parent.parent / external / "sql-scripts" / f"ddl.{external}.sql")
        return str(Path(dml.parent) / f"ddl.{external}.sql")

    @staticmethod
    def _select_line(parsed: ParsedStatement, root: Scope, name: str,
                     position: int | None) -> str:
        """``file:line`` of the SELECT item filling target ``name``."""
        while root.set_operation_scopes:
            root = root.set_operation_scopes[0]
        selects = root.expression.selects if isinstance(root.expression, exp.Select) else []
        named = [s for s in selects if s.alias_or_name == name]
        item = selects[position] if position is not None and position < len(selects) else \
            named[0] if named else None
        return f"{parsed.path}:{parsed.line_of(item) if item is not None else parsed.line}"

    def _refuse_star(self, external: str, parsed: ParsedStatement, scope: Scope) -> None:
        """Raise when the statement's output is ``*`` of ``external`` (maybe via subqueries)."""
        for branch in scope.set_operation_scopes or [scope]:
            selects = branch.expression.selects if isinstance(
                branch.expression, exp.Select) else []
            for item in filter(sql.is_star, selects):
                qualifier = item.table if isinstance(item, exp.Column) else ""
                sources = [self.source(branch, qualifier, "")] if qualifier else [
                    source for _, source in branch.selected_sources.values()]
                for source in sources:
                    if isinstance(source, Scope):
                        self._refuse_star(external, parsed, source)
                    elif isinstance(source, exp.Table) and (
                            sql.window_table(source) or source.name) == external:
                        raise LineageError(
                            f"{parsed.where}: {parsed.table} reads SELECT * from {external}, "
                            f"which has no DDL, so its columns are unknown; add "
                            f"{self._ddl_file(external, [parsed.table])} with CREATE TABLE "
                            f"{external} (...) listing its columns, or name the columns in "
                            f"the SELECT")

    def _evidence(self, external: str, parsed: ParsedStatement, root: Scope,
                  index: int) -> list[tuple[str, _Evidence]]:
        """Every column of ``external`` the statement reads, with what shows its type."""
        found: list[tuple[str, _Evidence]] = []
        targets = {c.name: c.type for c in self._ddl.get(parsed.table) or []}
        for name, position in parsed.targets.items():
            for ref in self.output(root, name, position, strict=True):
                if ref.table == external and name in targets:
                    why = f"{self._select_line(parsed, root, name, position)}: copied " \
                        f"unchanged into {parsed.table}.{name}"
                    found.append((ref.column, _Evidence(0, targets[name], why, (index, 1 << 30))))
        for scope in root.traverse():
            for column in scope.columns:
                for ref in self.expression(column, scope, strict=True):
                    if ref.table == external:
                        evidence = _read(parsed, column, index)
                        if evidence.rank > 2:
                            evidence = self._joined(parsed, column, scope, evidence)
                        found.append((ref.column, evidence))
            found += _time_attributes(external, parsed, scope, index)
        order = self._select_order(external, root)  # SELECT list order first, then text order
        return [(name, replace(evidence, first=(index, order.get(name, evidence.first[1]))))
                for name, evidence in found]

    def _joined(self, parsed: ParsedStatement, column: exp.Column, scope: Scope,
                evidence: _Evidence) -> _Evidence:
        """The DDL type of a column ``column`` is equated with, when there is one."""
        parent = column.parent
        if not isinstance(parent, exp.EQ):
            return evidence
        other = parent.expression if parent.this is column else parent.this
        for ref in sorted(self.expression(other, scope)):
            declared = {c.name: c.type for c in self._ddl.get(ref.table) or []}
            if ref.column in declared:
                why = f"{parsed.path}:{parsed.line_of(column)}: equated with {ref.table}." \
                    f"{ref.column}"
                return replace(evidence, rank=2, type=declared[ref.column], why=why)
        return evidence

    def _select_order(self, external: str, root: Scope) -> dict[str, int]:
        """Columns of ``external`` read by each item of the outer SELECT list, by position."""
        while root.set_operation_scopes:
            root = root.set_operation_scopes[0]
        items = root.expression.selects if isinstance(root.expression, exp.Select) else []
        order: dict[str, int] = {}
        for position, item in enumerate(items):
            for column in item.find_all(exp.Column):
                for ref in self.expression(column, root, strict=True):
                    if ref.table == external:
                        order.setdefault(ref.column, position - (1 << 20))
        return order

def _cte(scope: Scope, name: str) -> Scope | None:
    here: Scope | None = scope
    while here is not None:
        found = here.cte_sources.get(name)
        if isinstance(found, Scope):
            return found
        here = here.parent
    return None


@dataclass(frozen=True, order=True)
class _Evidence:
    """How a column's type was chosen; a lower rank is better evidence."""

    rank: int
    type: str
    why: str
    first: tuple[int, int]


def _read(parsed: ParsedStatement, column: exp.Column, index: int) -> _Evidence:
    """The type evidence of one reference to a column of an external."""
    where = f"{parsed.path}:{parsed.line_of(column)}"
    first = (index, int(column.this.meta.get("start", 1 << 30)))
    compared = sql.literal_type(column)
    if compared is not None:
        return _Evidence(2, compared[0], f"{where}: compared with {compared[1]}", first)
    parent = column.parent
    if parent is not None and is_time_function(parent):
        why = f"{where}: read by {parent.sql(dialect=sql.DIALECT)[:40]}, a time function"
        return _Evidence(2, "TIMESTAMP(3)", why, first)
    if isinstance(parent, exp.Cast | exp.TryCast):  # values must cast: generate the target
        target = parent.to.sql(dialect=sql.DIALECT).upper()
        why = f"{where}: read only through {parent.sql(dialect=sql.DIALECT)}"
        return _Evidence(3, target if CASTABLE.match(target) else "STRING", why, first)
    return _Evidence(4, "STRING", f"{where}: read, nothing shows its type; STRING assumed", first)


def _time_attributes(external: str, parsed: ParsedStatement, scope: Scope,
                     index: int) -> list[tuple[str, _Evidence]]:
    """``DESCRIPTOR(ts)`` columns of window TVFs over ``external``: TIMESTAMP(3)."""
    found: list[tuple[str, _Evidence]] = []
    for _, source in scope.selected_sources.values():
        if isinstance(source, exp.Table) and sql.window_table(source) == external:
            for call in source.find_all(exp.Anonymous):
                if sql.function_name(call) != "DESCRIPTOR":
                    continue
                for column in call.find_all(exp.Column):
                    why = f"{parsed.path}:{parsed.line_of(column)}: time attribute of a window"
                    first = (index, int(column.this.meta.get("start", 1 << 30)))
                    found.append((column.name, _Evidence(1, "TIMESTAMP(3)", why, first)))
    return found
