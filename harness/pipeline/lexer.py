"""A forgiving SQL lexer: statement splitting and the pattern fallback use it.

sqlglot's tokenizer raises on the first unterminated string or comment; :func:`lex` never
raises, so a project with one broken file can still be read. It knows Flink's quoting:
``'string'`` (``''`` escapes a quote), ```identifier``` (doubled backtick escapes),
``-- line`` and ``/* block */`` comments (``/*+ OPTIONS(...) */`` hints are comments too).
:func:`lex_strict` is the same lexer for parsers that must not guess (the DDL parser): it
raises on an unterminated quote or comment and reads words as Flink does.

Why not sqlglot's tokenizer (sqlglot 30.30): besides raising on the first unterminated
quote, no sqlglot dialect quotes as Flink does. The backtick dialects (Spark, Hive,
Databricks, MySQL) read ``'it''s'`` as two strings, ``'it'`` and ``'s'``, where Flink
reads one with an escaped quote. ``tests/unit/pipeline/test_ddl.py`` keeps both facts
under test, so the day sqlglot changes, a test says this module can go.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


@dataclass(frozen=True, slots=True)
class Lexeme:
    """One token of SQL text.

    Attributes:
        kind: ``word`` (keyword or bare name), ``quoted`` (backticked name), ``string``
            (a quoted literal) or ``symbol`` (one punctuation character).
        text: The name for words and quoted names (backticks removed), else the raw text.
        start: Offset of the first character in the text.
        end: Offset just past the last character.
    """

    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        """The text upper-cased when this is a bare word, else ``""``."""
        return self.text.upper() if self.kind == "word" else ""

    @property
    def is_name(self) -> bool:
        """True for a bare word or a backticked name."""
        return self.kind in ("word", "quoted")


@dataclass(frozen=True, slots=True)
class SqlStatement:
    """One statement cut out of a file: its text and where it starts.

    Attributes:
        text: The statement without its trailing ``;`` and surrounding whitespace.
        line: 1-based line of the file on which ``text`` starts.
    """

    text: str
    line: int


class UnterminatedError(ValueError):
    """A string, quoted name or block comment never closes (raised by :func:`lex_strict`).

    Attributes:
        opening: What opens it: ``'``, ``"``, a backtick or ``/*``.
        offset: Where it opens in the text.
    """

    def __init__(self, opening: str, offset: int) -> None:
        self.opening, self.offset = opening, offset
        super().__init__(f"unterminated {opening!r} at character {offset}")


def _quoted_end(sql: str, i: int, quote: str) -> int | None:
    """Index just past the quoted run opening at ``i``, or None when it never closes.

    A doubled quote inside the run escapes it.
    """
    j = i + 1
    while j < len(sql):
        if sql[j] == quote:
            if j + 1 < len(sql) and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return None


def _skip_quoted(sql: str, i: int, *, quote: str) -> int:
    """Index just past the quoted run opening at ``i``; an unclosed run ends the text."""
    end = _quoted_end(sql, i, quote)
    return len(sql) if end is None else end


def _skip_comment(sql: str, i: int) -> int:
    """Index just past the comment opening at ``i``, or ``i`` when there is none."""
    if sql.startswith("--", i):
        newline = sql.find("\n", i)
        return len(sql) if newline < 0 else newline + 1
    if sql.startswith("/*", i):
        close = sql.find("*/", i + 2)
        return len(sql) if close < 0 else close + 2
    return i


def _refuse_unterminated(sql: str, i: int) -> None:
    """Raise when a quote or block comment opens at ``i`` and never closes."""
    if sql.startswith("/*", i) and sql.find("*/", i + 2) < 0:
        raise UnterminatedError("/*", i)
    if sql[i] in "'\"`" and _quoted_end(sql, i, sql[i]) is None:
        raise UnterminatedError(sql[i], i)


def _is_word_char(char: str, *, strict: bool) -> bool:
    return char in _WORD_CHARS or (strict and char.isalnum())


def _word_end(sql: str, i: int, *, strict: bool) -> int:
    """Index just past the word opening at ``i``.

    Read strictly, a word may hold any Unicode letter or digit and a number ends at its last
    digit, as in Flink (``3BUCKETS`` is ``3`` then ``BUCKETS``).
    """
    number = strict and sql[i].isdecimal()
    j = i + 1
    while j < len(sql) and (sql[j].isdecimal() if number
                            else _is_word_char(sql[j], strict=strict)):
        j += 1
    return j


def _scan(sql: str, *, strict: bool) -> list[Lexeme]:
    """Lexemes of ``sql``; ``strict`` is :func:`lex_strict`, else :func:`lex`."""
    out: list[Lexeme] = []
    i = 0
    while i < len(sql):
        char = sql[i]
        if strict:
            _refuse_unterminated(sql, i)
        after_comment = _skip_comment(sql, i)
        if char.isspace() or after_comment != i:
            i = max(after_comment, i + 1)
            continue
        if char in "'\"`":
            j = _skip_quoted(sql, i, quote=char)
            if char == "`":
                out.append(Lexeme("quoted", sql[i + 1:j - 1].replace("``", "`"), i, j))
            else:
                out.append(Lexeme("string", sql[i:j], i, j))
        elif _is_word_char(char, strict=strict):
            j = _word_end(sql, i, strict=strict)
            out.append(Lexeme("word", sql[i:j], i, j))
        else:
            j = i + 1
            out.append(Lexeme("symbol", char, i, j))
        i = j
    return out


def lex(sql: str) -> list[Lexeme]:
    """Split SQL text into lexemes, dropping whitespace and comments.

    Args:
        sql: Any text; unterminated strings and comments run to the end.

    Returns:
        The lexemes in order.
    """
    return _scan(sql, strict=False)


def lex_strict(sql: str) -> list[Lexeme]:
    """Split SQL text into lexemes as Flink reads it, refusing what never closes.

    It differs from :func:`lex` where that one is lenient: a string, quoted name or block
    comment that never closes raises instead of running to the end, and words follow
    Flink's rules: a bare name may hold any Unicode letter or digit (``größe`` is one word,
    where :func:`lex` splits it at ``ö``) and a number ends at its last digit (``3BUCKETS``
    is ``3`` then ``BUCKETS``, where :func:`lex` reads one word).

    Args:
        sql: SQL text.

    Returns:
        The lexemes in order, with offsets into ``sql``.

    Raises:
        UnterminatedError: A quote, backtick or ``/*`` never closes.
    """
    return _scan(sql, strict=True)


def _words(lexemes: list[Lexeme], count: int) -> list[str]:
    return [lexeme.upper for lexeme in lexemes[:count]]


def _unwrap(lexemes: list[Lexeme], piece_start: int) -> int | None:
    """Where a statement starts, skipping a statement-set wrapper; None drops the piece.

    ``EXECUTE STATEMENT SET BEGIN INSERT ...; INSERT ...; END`` and the SQL client's
    ``BEGIN STATEMENT SET; ...; END;`` both reduce to their INSERT statements.
    """
    if not lexemes or _words(lexemes, 2) == ["END"] or (
            len(lexemes) == 3 and _words(lexemes, 3) == ["BEGIN", "STATEMENT", "SET"]):
        return None
    if _words(lexemes, 4) == ["EXECUTE", "STATEMENT", "SET", "BEGIN"]:
        return lexemes[4].start if len(lexemes) > 4 else None
    if _words(lexemes, 2) == ["EXECUTE", "INSERT"]:
        return lexemes[1].start
    return piece_start


def split_statements(sql: str) -> list[SqlStatement]:
    """Cut a file into statements at ``;`` outside strings, names and comments.

    Statement sets are unwrapped into their INSERT statements; pieces holding only
    comments are dropped.

    Args:
        sql: The text of a ``.sql`` file.

    Returns:
        The statements in file order, each with the line it starts on.
    """
    newlines = [i for i, char in enumerate(sql) if char == "\n"]
    statements: list[SqlStatement] = []
    piece: list[Lexeme] = []
    piece_start = 0
    for lexeme in [*lex(sql), Lexeme("symbol", ";", len(sql), len(sql))]:
        if lexeme.kind != "symbol" or lexeme.text != ";":
            piece.append(lexeme)
            continue
        start = _unwrap(piece, piece_start)
        if start is not None:
            raw = sql[start:lexeme.start]
            start += len(raw) - len(raw.lstrip())
            line = bisect.bisect_left(newlines, start) + 1
            statements.append(SqlStatement(raw.strip(), line))
        piece, piece_start = [], lexeme.end
    return statements


def statement_kind(sql: str) -> str:
    """What a statement does: ``ddl``, ``ctas``, ``dml`` or ``other``.

    ``ddl`` is CREATE TABLE with a column list, ``ctas`` is CREATE TABLE ... AS SELECT
    (it both defines and fills a table), ``dml`` is INSERT.
    """
    lexemes = lex(sql)
    words = [lexeme.upper for lexeme in lexemes[:3]]
    if words[:1] == ["INSERT"]:
        return "dml"
    if words[:2] == ["CREATE", "TABLE"] or words == ["CREATE", "TEMPORARY", "TABLE"]:
        depth = 0
        for here, after in itertools.pairwise(lexemes):
            depth += {"(": 1, ")": -1}.get(here.text, 0) if here.kind == "symbol" else 0
            if depth == 0 and here.upper == "AS" and after.upper in ("SELECT", "WITH"):
                return "ctas"
        return "ddl"
    return "other"
