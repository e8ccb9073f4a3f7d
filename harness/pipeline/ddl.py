"""The parts of a Flink ``CREATE TABLE`` statement, and where each sits in its text.

:func:`parse_create_table` reads a table's name, its PRIMARY KEY, its ``DISTRIBUTED ...``
clause and its ``WITH (...)`` options, each clause with the characters it spans, so that a
caller can rewrite one clause and keep every other byte of the statement
(:func:`replace_options`). It reads the lexemes of
:func:`harness.pipeline.lexer.lex_strict`, so quotes, backticks and comments are respected
and an unterminated one is an error rather than a guess.

Why not sqlglot (30.30): no dialect of it reads Confluent's ``DISTRIBUTED BY HASH(a)
INTO 6 BUCKETS``; every one falls back to an opaque ``Command`` for the whole statement.
And its tree does not keep a clause's characters: rewriting the ``WITH`` options through
it would reformat the statement and drop its comments. The lineage and the pattern
fallback do use sqlglot, on the statements it parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from harness.errors import CutoverError
from harness.pipeline.lexer import Lexeme, UnterminatedError, lex_strict


class DdlError(CutoverError):
    """A CREATE TABLE statement cannot be read; the message names what to fix."""


@dataclass(frozen=True)
class Distribution:
    """A ``DISTRIBUTED [BY [HASH|RANGE] (cols)] [INTO n BUCKETS]`` clause.

    Attributes:
        columns: The distribution columns, unquoted; empty without ``BY``.
        buckets: The bucket count; None without ``INTO n BUCKETS``.
        span: The characters of the clause together with the whitespace before it, so that
            cutting them out leaves the rest of the statement as written.
    """

    columns: tuple[str, ...]
    buckets: int | None
    span: tuple[int, int]


@dataclass(frozen=True)
class CreateTable:
    """What a CREATE TABLE statement declares, and where its clauses are.

    Attributes:
        name: The table's own name: the last part of a dotted name, unquoted.
        primary_key: PRIMARY KEY columns, from a table or a column constraint; empty if none.
        distribution: The DISTRIBUTED clause; None when there is none.
        options: WITH options in written order as (key, value), quotes removed; None when
            the statement has no WITH clause.
        with_span: The characters of the ``WITH (...)`` clause; None when there is none.
        insert_at: Where a WITH clause goes when there is none: just past the last lexeme
            before the end of the statement (``;``, ``AS`` or ``LIKE``), not counting a
            DISTRIBUTED clause.
        names: Every bare word and quoted name of the text, unquoted (keywords included),
            to ask whether the statement mentions a name.
    """

    name: str
    primary_key: tuple[str, ...] = ()
    distribution: Distribution | None = None
    options: tuple[tuple[str, str], ...] | None = None
    with_span: tuple[int, int] | None = None
    insert_at: int = 0
    names: frozenset[str] = frozenset()


def parse_create_table(sql: str) -> CreateTable | None:
    """Read a ``CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS]`` statement.

    Args:
        sql: One SQL statement; comments and a trailing ``;`` may surround it.

    Returns:
        The statement's parts, or None when it is not a CREATE TABLE.

    Raises:
        DdlError: The text has an unterminated quote or comment (whatever the statement),
            or the CREATE TABLE has no name, an unbalanced parenthesis, a malformed
            DISTRIBUTED clause or an option that is not ``'key' = 'value'``.
    """
    cur = _Cursor(sql)
    if not _skip_create_table(cur):
        return None
    name = _table_name(cur)
    primary_key: tuple[str, ...] = ()
    if cur.symbol("("):
        primary_key = _primary_key(cur.group())
    names = frozenset(_unquote(lexeme) for lexeme in cur.lexemes if _is_name(lexeme))
    table = CreateTable(name, primary_key, insert_at=cur.at(-1).end, names=names)
    return _read_clauses(cur, table)


def replace_options(sql: str, table: CreateTable, options: Mapping[str, str], *,
                    drop_distribution: bool) -> str:
    """``sql`` with its WITH clause replaced by one holding ``options``; the rest is kept.

    A statement without a WITH clause gets one at :attr:`CreateTable.insert_at`, on a line
    of its own. The new clause lists one ``'key' = 'value'`` option per line.

    Args:
        sql: The statement ``table`` was read from.
        table: Its parts, from :func:`parse_create_table`.
        options: The options of the new WITH clause, in order.
        drop_distribution: Also cut out the DISTRIBUTED clause, if any.

    Returns:
        The edited statement.
    """
    lines = ",\n".join(f"  {_quote(key)} = {_quote(value)}" for key, value in options.items())
    block = f"WITH (\n{lines}\n)"
    edits: list[tuple[int, int, str]] = []
    if drop_distribution and table.distribution:
        edits.append((*table.distribution.span, ""))
    if table.with_span:
        edits.append((*table.with_span, block))
    else:
        edits.append((table.insert_at, table.insert_at, "\n" + block))
    for start, end, text in sorted(edits, reverse=True):
        sql = sql[:start] + text + sql[end:]
    return sql


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# Reading the statement
# ---------------------------------------------------------------------------------------------

class _Cursor:
    """Lexemes with a position; reading past the end yields an ``eof`` lexeme."""

    def __init__(self, sql: str) -> None:
        try:
            self.lexemes = lex_strict(sql)
        except UnterminatedError as error:
            raise DdlError(f"unterminated {error.opening!r} at character {error.offset}; "
                           "close the quote or comment") from error
        self.sql, self.pos = sql, 0

    def at(self, offset: int = 0) -> Lexeme:
        index = self.pos + offset
        if index < len(self.lexemes):
            return self.lexemes[index]
        return Lexeme("eof", "", len(self.sql), len(self.sql))

    def word(self, *words: str, offset: int = 0) -> bool:
        """Whether the lexeme at ``offset`` is a bare word among ``words`` (upper case)."""
        return self.at(offset).upper in words

    def symbol(self, char: str, offset: int = 0) -> bool:
        """Whether the lexeme at ``offset`` is the punctuation character ``char``."""
        return _is_symbol(self.at(offset), char)

    def group(self) -> list[Lexeme]:
        """Lexemes inside the parentheses opening at the cursor; moves past the closing one."""
        if not self.symbol("("):
            found = self.sql[self.at().start:self.at().end] or "the end"
            raise DdlError(f"expected '(' at character {self.at().start}, found {found!r}; "
                           "check the statement")
        depth, start = 0, self.pos
        while self.at().kind != "eof":
            depth += _nesting(self.at())
            self.pos += 1
            if depth == 0:
                return self.lexemes[start + 1:self.pos - 1]
        raise DdlError(f"unbalanced '(' at character {self.lexemes[start].start}; "
                       "close the parenthesis")


def _is_symbol(lexeme: Lexeme, char: str) -> bool:
    return lexeme.kind == "symbol" and lexeme.text == char


def _nesting(lexeme: Lexeme) -> int:
    """+1 for an opening parenthesis, -1 for a closing one, else 0."""
    return {"(": 1, ")": -1}.get(lexeme.text, 0) if lexeme.kind == "symbol" else 0


def _is_word(lexeme: Lexeme) -> bool:
    """Whether the lexeme is a bare word that is not a number."""
    return lexeme.kind == "word" and not lexeme.text[0].isdecimal()


def _is_name(lexeme: Lexeme) -> bool:
    """Whether the lexeme is a bare word (not a number), a backticked or a double-quoted name."""
    return _is_word(lexeme) or lexeme.kind == "quoted" or (
        lexeme.kind == "string" and lexeme.text[0] == '"')


def _unquote(lexeme: Lexeme) -> str:
    """The lexeme's text with the quotes of a double-quoted name removed."""
    if lexeme.kind == "string" and lexeme.text[0] == '"':
        return lexeme.text[1:-1].replace('""', '"')
    return lexeme.text


def _is_literal(lexeme: Lexeme) -> bool:
    return lexeme.kind == "string" and lexeme.text[0] == "'"


def _literal(lexeme: Lexeme) -> str:
    return lexeme.text[1:-1].replace("''", "'")


def _read_clauses(cur: _Cursor, table: CreateTable) -> CreateTable:
    """Read DISTRIBUTED and WITH up to the end of the statement, ``;``, ``AS`` or ``LIKE``."""
    insert_at = table.insert_at
    while cur.at().kind != "eof" and not cur.symbol(";") and not cur.word("AS", "LIKE"):
        if cur.word("DISTRIBUTED"):
            table = replace(table, distribution=_distribution(cur))
            continue  # a WITH clause added later goes before the DISTRIBUTED clause
        if cur.word("WITH") and cur.symbol("(", offset=1):
            start = cur.at().start
            cur.pos += 1
            table = replace(table, options=_options(cur.group()),
                            with_span=(start, cur.at(-1).end))
        elif cur.symbol("("):
            cur.group()
        else:
            cur.pos += 1
        insert_at = cur.at(-1).end
    return replace(table, insert_at=insert_at)


def _skip_create_table(cur: _Cursor) -> bool:
    """Move past ``CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS]`` if it is there."""
    if not cur.word("CREATE"):
        return False
    cur.pos += 1
    if cur.word("OR") and cur.word("REPLACE", offset=1):
        cur.pos += 2
    if cur.word("TEMPORARY"):
        cur.pos += 1
    if not cur.word("TABLE"):
        return False
    cur.pos += 1
    if cur.word("IF") and cur.word("NOT", offset=1) and cur.word("EXISTS", offset=2):
        cur.pos += 3
    return True


def _table_name(cur: _Cursor) -> str:
    """Last part of a possibly dotted, possibly quoted table name."""
    while True:
        lexeme = cur.at()
        if not _is_name(lexeme):
            raise DdlError(f"expected a table name at character {lexeme.start}; "
                           "check the CREATE TABLE statement")
        cur.pos += 1
        if not cur.symbol("."):
            return _unquote(lexeme)
        cur.pos += 1


def _split_commas(lexemes: list[Lexeme]) -> list[list[Lexeme]]:
    """Split lexemes on commas outside parentheses; empty parts are dropped."""
    parts: list[list[Lexeme]] = [[]]
    depth = 0
    for lexeme in lexemes:
        depth += _nesting(lexeme)
        if depth == 0 and _is_symbol(lexeme, ","):
            parts.append([])
        else:
            parts[-1].append(lexeme)
    return [part for part in parts if part]


def _primary_key(columns: list[Lexeme]) -> tuple[str, ...]:
    """PRIMARY KEY columns, from a table constraint or a column constraint."""
    for part in _split_commas(columns):
        depth = 0
        for i, lexeme in enumerate(part[:-1]):
            depth += _nesting(lexeme)
            if depth or lexeme.upper != "PRIMARY" or part[i + 1].upper != "KEY":
                continue
            rest = part[i + 2:]
            if rest and _is_symbol(rest[0], "("):
                return tuple(_unquote(key) for key in rest
                             if _is_name(key) and key.upper not in ("NOT", "ENFORCED"))
            return (_unquote(part[0]),)
    return ()


def _distribution(cur: _Cursor) -> Distribution:
    """Read ``DISTRIBUTED [BY [HASH|RANGE] (cols)] [INTO n BUCKETS]`` at the cursor."""
    start = len(cur.sql[:cur.at().start].rstrip())
    cur.pos += 1
    columns: tuple[str, ...] = ()
    if cur.word("BY"):
        cur.pos += 1
        if _is_word(cur.at()) and cur.symbol("(", offset=1):
            cur.pos += 1  # HASH or RANGE
        columns = tuple(_unquote(column) for column in cur.group() if _is_name(column))
    buckets = None
    if cur.word("INTO"):
        count = cur.at(1)
        if not (count.kind == "word" and count.text.isdecimal()) or not cur.word(
                "BUCKETS", offset=2):
            raise DdlError(f"expected 'INTO <n> BUCKETS' at character {cur.at().start}; "
                           "check the DISTRIBUTED clause")
        buckets = int(count.text)
        cur.pos += 3
    return Distribution(columns, buckets, (start, cur.at(-1).end))


def _options(lexemes: list[Lexeme]) -> tuple[tuple[str, str], ...]:
    """``'key' = 'value'`` pairs of a WITH clause, quotes removed."""
    pairs = []
    for part in _split_commas(lexemes):
        if len(part) != 3 or not _is_symbol(part[1], "=") or not (
                _is_literal(part[0]) and _is_literal(part[2])):
            raise DdlError(f"option at character {part[0].start} is not 'key' = 'value'; "
                           "quote option keys and values with single quotes")
        pairs.append((_literal(part[0]), _literal(part[2])))
    return tuple(pairs)
