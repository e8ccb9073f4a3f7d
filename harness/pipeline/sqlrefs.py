"""Which tables a Flink SQL statement writes and reads, and renaming tables in place.

sqlglot has no Flink dialect. Its Spark dialect reads Flink SQL best: backticked names,
``catalog.db.table`` paths, CTEs, ``FOR SYSTEM_TIME AS OF``, ``LATERAL TABLE(...)``,
``ROW_NUMBER() OVER (...)`` and ``/*+ OPTIONS(...) */`` hints (a comment to it) all
parse, where the default dialect stops at the first backtick. Two Flink features are
handled around it: statement sets are unwrapped by :func:`~harness.pipeline.lexer.
split_statements`, and ``TABLE t`` arguments of window functions (``TUMBLE(TABLE t,
DESCRIPTOR(ts), ...)``) are lifted out before parsing, since no dialect accepts them.

Names: a reference to ```cat`.`db`.`t``` counts as table ``t``. The bare name is the
key of the pipeline DAG, the way shift_left names tables; the catalog and database
parts are left out of results rather than kept as a second spelling that would split
one table into two nodes of the DAG. Matching is case-sensitive, as in Flink.

Anything sqlglot cannot parse falls back to a pattern reading of the lexemes (names
after FROM, JOIN, INSERT INTO and CREATE TABLE, outside strings and comments), and the
result says so, so one odd statement never stops a whole project from loading.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError, TokenError

from harness.pipeline.lexer import Lexeme, lex, split_statements, statement_kind

DIALECT = "spark"
_FROM_FUNCTIONS = frozenset({"EXTRACT", "SUBSTRING", "TRIM", "OVERLAY", "POSITION"})
_NOT_TABLES = frozenset({"LATERAL", "UNNEST", "TABLE", "SELECT", "WITH", "VALUES"})
_TARGET_PREFIX = frozenset({"INSERT", "INTO", "OVERWRITE", "CREATE", "TEMPORARY", "TABLE",
                            "IF", "NOT", "EXISTS"})


@dataclass(frozen=True)
class StatementRefs:
    """The tables one INSERT (or CREATE TABLE ... AS) statement writes and reads.

    Attributes:
        written: The table the statement writes, ``""`` when none was found.
        reads: Tables read (FROM, JOIN, window function arguments), sorted, without CTE
            names and without the written table.
        parse_error: First line of sqlglot's error when the pattern fallback was used.
        error_line: Line within the statement where sqlglot stopped.
    """

    written: str
    reads: tuple[str, ...]
    parse_error: str = ""
    error_line: int = 1


class _Unparsed(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def statement_refs(sql: str) -> StatementRefs:
    """Read the written and read tables of one statement, parsing or by pattern.

    Args:
        sql: One INSERT or CREATE TABLE ... AS statement, without statement-set wrapper.

    Returns:
        The references; ``parse_error`` is set when sqlglot could not parse it.
    """
    lifted, cleaned = _lift_window_tables(sql)
    try:
        written, reads = _refs_by_sqlglot(cleaned)
    except _Unparsed as exc:
        written, reads = _refs_by_pattern(sql)
        return StatementRefs(written, tuple(sorted((reads | lifted) - {written})),
                             parse_error=exc.message, error_line=exc.line)
    return StatementRefs(written, tuple(sorted((reads | lifted) - {written})))


def _writing_statements(sql: str) -> list[StatementRefs]:
    return [statement_refs(statement.text) for statement in split_statements(sql)
            if statement_kind(statement.text) in ("dml", "ctas")]


def written_table(dml: str) -> str:
    """The table the first INSERT (or CREATE TABLE ... AS) of ``dml`` writes, or ``""``."""
    refs = _writing_statements(dml)
    return refs[0].written if refs else ""


def read_tables(dml: str) -> tuple[str, ...]:
    """Tables the statements of ``dml`` read, sorted, without CTEs and tables they write."""
    refs = _writing_statements(dml)
    written = {r.written for r in refs}
    return tuple(sorted({name for r in refs for name in r.reads} - written))


def created_table(ddl: str) -> str:
    """The table the first CREATE TABLE statement of ``ddl`` defines, or ``""``."""
    for statement in split_statements(ddl):
        if statement_kind(statement.text) in ("ddl", "ctas"):
            return _target(lex(statement.text))
    return ""


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """Silence sqlglot's 'falling back to a Command' log lines; the caller reports."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _first_line(exc: SqlglotError) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _refs_by_sqlglot(sql: str) -> tuple[str, set[str]]:
    try:
        with _quiet_sqlglot():
            trees = [tree for tree in sqlglot.parse(sql, read=DIALECT) if tree is not None]
    except ParseError as exc:
        line = exc.errors[0].get("line") if exc.errors else None
        raise _Unparsed(_first_line(exc), line if isinstance(line, int) else 1) from exc
    except SqlglotError as exc:
        raise _Unparsed(_first_line(exc), 1) from exc
    if len(trees) != 1 or not isinstance(trees[0], exp.Insert | exp.Create):
        raise _Unparsed("unsupported syntax, sqlglot kept it as an opaque command", 1)
    tree = trees[0]
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    written = target.name if isinstance(target, exp.Table) else ""
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    reads = {table.name for table in tree.find_all(exp.Table)
             if table.name and not (table.name in ctes and not table.db)}
    return written, reads - {written}


def _lift_window_tables(sql: str) -> tuple[set[str], str]:
    """Take out ``TABLE t`` arguments (window TVFs), blanking the keyword in place."""
    lexemes = lex(sql)
    names: set[str] = set()
    cleaned = sql
    for i, lexeme in enumerate(lexemes):
        if lexeme.upper != "TABLE" or i == 0 or lexemes[i - 1].text not in ("(", ",", ">"):
            continue
        found = _dotted(lexemes, i + 1)
        if found:
            names.add(found[0])
            cleaned = cleaned[:lexeme.start] + " " * 5 + cleaned[lexeme.end:]
    return names, cleaned


def _dotted(lexemes: list[Lexeme], i: int, *, call_ok: bool = False) -> tuple[str, int] | None:
    """The last part of a dotted name starting at ``i`` and the index after it.

    A name followed by ``(`` is a function call unless ``call_ok`` (a column list).
    """
    if i >= len(lexemes) or not lexemes[i].is_name or lexemes[i].upper in _NOT_TABLES:
        return None
    while (i + 2 < len(lexemes) and lexemes[i + 1].text == "."
           and lexemes[i + 1].kind == "symbol" and lexemes[i + 2].is_name):
        i += 2
    if not call_ok and i + 1 < len(lexemes) and lexemes[i + 1].text == "(":
        return None  # a function call, not a table
    return lexemes[i].text, i + 1


def _target(lexemes: list[Lexeme]) -> str:
    if not lexemes or lexemes[0].upper not in ("INSERT", "CREATE"):
        return ""
    i = 0
    while i < len(lexemes) and lexemes[i].upper in _TARGET_PREFIX:
        i += 1
    found = _dotted(lexemes, i, call_ok=True)
    return found[0] if found else ""


def _table_list(lexemes: list[Lexeme], i: int) -> list[str]:
    """Tables named after FROM or JOIN: ``a [AS] [x], b ...``, stopping at anything else."""
    names: list[str] = []
    while found := _dotted(lexemes, i):
        name, i = found
        names.append(name)
        if i < len(lexemes) and lexemes[i].upper == "AS":
            i += 1
        if i < len(lexemes) and lexemes[i].is_name:
            i += 1
        if i >= len(lexemes) or lexemes[i].text != "," or lexemes[i].kind != "symbol":
            break
        i += 1
    return names


def _cte_names(lexemes: list[Lexeme]) -> set[str]:
    """Names defined as ``WITH name AS (`` or ``, name AS (``."""
    names: set[str] = set()
    for i in range(2, len(lexemes) - 1):
        opener = lexemes[i - 2]
        if (lexemes[i].upper == "AS" and lexemes[i + 1].text == "(" and lexemes[i - 1].is_name
                and (opener.upper == "WITH" or (opener.kind, opener.text) == ("symbol", ","))):
            names.add(lexemes[i - 1].text)
    return names


def _refs_by_pattern(sql: str) -> tuple[str, set[str]]:
    """The pattern fallback: names after FROM, JOIN and INSERT INTO, outside literals."""
    lexemes = lex(sql)
    reads: set[str] = set()
    opened: list[str] = []  # the word before each open parenthesis
    for i, lexeme in enumerate(lexemes):
        before = lexemes[i - 1] if i else Lexeme("symbol", "", 0, 0)
        if lexeme.kind == "symbol" and lexeme.text == "(":
            opened.append(before.upper)
        elif lexeme.kind == "symbol" and lexeme.text == ")" and opened:
            opened.pop()
        elif lexeme.upper == "JOIN" or (
                lexeme.upper == "FROM" and before.upper != "DISTINCT"
                and not (opened and opened[-1] in _FROM_FUNCTIONS)):
            reads.update(_table_list(lexemes, i + 1))
    written = _target(lexemes)
    return written, reads - _cte_names(lexemes) - {written}


def rename_tables(sql: str, renames: Mapping[str, str]) -> str:
    """Rename tables in SQL text, leaving every other character as it was.

    Every name token spelled exactly like a key of ``renames`` (bare or backticked, also
    as a qualifier such as ``t.col`` or the last part of ``cat.db.t``) is replaced;
    string literals and comments are never touched. Tokens come from sqlglot's tokenizer,
    or from the forgiving lexer when sqlglot cannot tokenize the text.

    Args:
        sql: The statement text.
        renames: Old table name to new table name.

    Returns:
        The text with the new names spliced in.
    """
    pieces: list[str] = []
    last = 0
    for start, end in _name_spans(sql):
        new = _renamed(sql[start:end], renames)
        if new is not None:
            pieces += [sql[last:start], new]
            last = end
    return "".join(pieces) + sql[last:]


def _name_spans(sql: str) -> list[tuple[int, int]]:
    try:
        tokens = Dialect.get_or_raise(DIALECT).tokenize(sql)
    except TokenError:
        return [(lexeme.start, lexeme.end) for lexeme in lex(sql) if lexeme.is_name]
    return [(token.start, token.end + 1) for token in tokens]


def _renamed(raw: str, renames: Mapping[str, str]) -> str | None:
    if raw in renames:
        return renames[raw]
    if len(raw) > 2 and raw[0] == raw[-1] == "`":
        new = renames.get(raw[1:-1].replace("``", "`"))
        return None if new is None else "`" + new.replace("`", "``") + "`"
    return None
