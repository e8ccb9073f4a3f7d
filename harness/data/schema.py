"""Columns of a Flink ``CREATE TABLE`` statement, as a writer of the table sees them.

Only physical columns are returned: a writer produces exactly those into the table's topic.
Computed columns (``x AS expr``) are evaluated by Flink on read, and ``METADATA`` columns
(``ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'``) come from the Kafka record's metadata,
not from its JSON value, so neither is produced by writers. ``WATERMARK``, ``PRIMARY KEY``
and ``CONSTRAINT`` entries are not columns.

Parsing uses a small tokenizer that knows backticked names, string literals, comments and
nesting in ``()`` and ``<>``, which is all a column list needs.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, replace

from harness.errors import CutoverError


class SchemaError(CutoverError):
    """A DDL statement or type string cannot be read."""


@dataclass(frozen=True)
class Column:
    """One physical column: its name, its Flink type as written, and nullability.

    ``type`` is normalised only in spacing (``DECIMAL(10, 2)``, ``ROW<a INT, b STRING>``);
    :attr:`data_type` gives its parsed form.
    """

    name: str
    type: str
    nullable: bool = True

    @property
    def data_type(self) -> DataType:
        """The parsed type (root name, parameters and nested fields)."""
        return parse_type(self.type)


@dataclass(frozen=True)
class DataType:
    """A parsed Flink type.

    Attributes:
        name: Canonical upper-case root, e.g. ``DECIMAL``, ``TIMESTAMP_LTZ``, ``ARRAY``;
            aliases are resolved (``INTEGER`` is ``INT``, ``NUMERIC`` is ``DECIMAL``,
            ``TIMESTAMP(3) WITH LOCAL TIME ZONE`` is ``TIMESTAMP_LTZ``).
        params: Integer parameters, e.g. ``(10, 2)`` for ``DECIMAL(10, 2)``.
        children: ``element`` of ARRAY/MULTISET, ``key`` and ``value`` of MAP, the fields
            of ROW.
    """

    name: str
    params: tuple[int, ...] = ()
    children: tuple[Column, ...] = ()


@dataclass(frozen=True)
class _Token:
    kind: str  # word, quoted, string, punct, other
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


_TOKEN = re.compile(r"""
      (?P<space>\s+)
    | (?P<comment>--[^\n]*|/\*.*?\*/)
    | (?P<quoted>`(?:[^`]|``)*`)
    | (?P<string>'(?:[^']|'')*')
    | (?P<word>[A-Za-z_$][A-Za-z0-9_$]*|\d+(?:\.\d+)?)
    | (?P<punct>[(),<>])
    | (?P<unterminated>`|'|/\*)
    | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_ANGLE_TYPES = {"ARRAY", "MAP", "ROW", "MULTISET"}
# DEFAULT is no Flink SQL, but projects write it (`x DECIMAL(15,2) DEFAULT 0.0`): it
# ends the type, so a type copied into an inferred DDL does not carry it along
_CONSTRAINT_WORDS = {"NOT", "NULL", "METADATA", "COMMENT", "PRIMARY", "VIRTUAL",
                     "CONSTRAINT", "DEFAULT"}
_ALIASES = {"INTEGER": "INT", "NUMERIC": "DECIMAL", "DEC": "DECIMAL", "CHARACTER": "CHAR"}


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind == "unterminated":
            raise SchemaError(f"unterminated {match.group()!r} at character {match.start()} "
                              "of the DDL; close the quote, backtick or comment")
        if kind not in ("space", "comment"):
            tokens.append(_Token(kind, match.group()))
    return tokens


def _unquote(token: _Token) -> str:
    if token.kind == "quoted":
        return token.text[1:-1].replace("``", "`")
    return token.text


def _split_top_level(tokens: list[_Token]) -> list[list[_Token]]:
    """Split at commas outside ``()`` and type ``<>`` (a ``<`` after ARRAY/MAP/ROW/...)."""
    parts: list[list[_Token]] = [[]]
    stack: list[str] = []
    previous = ""
    for token in tokens:
        if token.text == "(" or (token.text == "<" and previous in _ANGLE_TYPES):
            stack.append(token.text)
        elif stack and (token.text, stack[-1]) in ((")", "("), (">", "<")):
            stack.pop()
        elif token.text == "," and not stack:
            parts.append([])
            previous = ""
            continue
        parts[-1].append(token)
        previous = token.upper
    if stack:
        raise SchemaError(f"unbalanced {stack[-1]!r} in the column list; close every "
                          "'(' and '<' of a type")
    return parts


def _column_list(ddl: str) -> list[_Token]:
    """The tokens between the parentheses of ``CREATE TABLE name (...)``.

    Input without a ``TABLE`` keyword is taken to be a bare column list.
    """
    tokens = _tokenize(ddl)
    table_at = next((i for i, t in enumerate(tokens) if t.upper == "TABLE"), None)
    if table_at is None:
        return tokens
    for i in range(table_at + 1, len(tokens)):
        if tokens[i].upper in ("WITH", "AS", "LIKE"):
            break
        if tokens[i].text == "(":
            depth = 0
            for j in range(i, len(tokens)):
                depth += {"(": 1, ")": -1}.get(tokens[j].text, 0)
                if depth == 0:
                    return tokens[i + 1:j]
            raise SchemaError("the column list of CREATE TABLE is not closed; add the "
                              "missing ')'")
    raise SchemaError("no column list in the DDL; expected CREATE TABLE name (col TYPE, ...) "
                      "(CREATE TABLE ... AS SELECT has none: pass the columns explicitly)")


def _render(tokens: list[_Token]) -> str:
    """Type tokens as text with canonical spacing: ``DECIMAL(10, 2)``, ``MAP<STRING, INT>``."""
    out = ""
    for token in tokens:
        if out and token.text not in "()<>," and out[-1] not in "(<":
            out += " "
        out += token.text
    return out


def _split_constraints(tokens: list[_Token]) -> tuple[list[_Token], list[_Token]]:
    """Split ``TYPE [NOT NULL] [METADATA ...] [COMMENT '...']`` into type and the rest."""
    depth = 0
    for i, token in enumerate(tokens):
        if token.text in "(<" and token.kind == "punct":
            depth += 1
        elif token.text in ")>" and token.kind == "punct":
            depth -= 1
        elif depth == 0 and (token.upper in _CONSTRAINT_WORDS or token.kind == "string"):
            return tokens[:i], tokens[i:]
    return tokens, []


def _not_null(rest: list[_Token]) -> bool:
    words = [t.upper for t in rest]
    return any(pair == ("NOT", "NULL") for pair in itertools.pairwise(words))


def _field(tokens: list[_Token], where: str) -> tuple[Column, list[_Token]]:
    """A ``name TYPE ...`` entry as a column, plus its trailing constraint tokens."""
    if not tokens:
        raise SchemaError(f"empty entry in {where} (a stray comma?); remove it")
    if tokens[0].kind not in ("word", "quoted"):
        raise SchemaError(f"cannot read {_render(tokens)!r} in {where}; write entries as "
                          "`name TYPE`")
    type_tokens, rest = _split_constraints(tokens[1:])
    name = _unquote(tokens[0])
    if not type_tokens:
        raise SchemaError(f"column {name!r} in {where} has no type; add one, e.g. "
                          f"`{name} STRING`")
    return Column(name, _render(type_tokens), not _not_null(rest)), rest


def _parenthesised_names(tokens: list[_Token]) -> list[str]:
    start = next((i for i, t in enumerate(tokens) if t.text == "("), None)
    end = next((i for i, t in enumerate(tokens) if t.text == ")"), None)
    if start is None or end is None:
        raise SchemaError(f"cannot read the key columns of {_render(tokens)!r}; write "
                          "PRIMARY KEY (col, ...) NOT ENFORCED")
    return [_unquote(t) for t in tokens[start + 1:end] if t.kind in ("word", "quoted")]


def _parse(ddl: str) -> tuple[list[Column], list[str]]:
    columns: list[Column] = []
    key: list[str] = []
    for entry in _split_top_level(_column_list(ddl)):
        first = entry[0].upper if entry else ""
        if first == "WATERMARK":
            continue
        if first in ("PRIMARY", "CONSTRAINT"):
            if any(t.upper == "PRIMARY" for t in entry):
                key = _parenthesised_names(entry)
            continue
        if len(entry) > 1 and entry[1].upper == "AS":
            continue  # computed column
        column, rest = _field(entry, "the column list")
        words = {t.upper for t in rest}
        if "METADATA" in words:
            continue
        if "PRIMARY" in words:
            key = [column.name]
        columns.append(column)
    if not columns:
        raise SchemaError("the DDL declares no physical columns; a writer needs at least one")
    return columns, key


def columns_from_ddl(ddl: str) -> list[Column]:
    """The physical columns of a Flink ``CREATE TABLE`` statement, in declared order.

    Computed and ``METADATA`` columns are skipped (writers do not produce them), as are
    ``WATERMARK``, ``PRIMARY KEY`` and ``CONSTRAINT`` entries. Primary-key columns are
    reported as not nullable, as Flink treats them.

    Args:
        ddl: A full ``CREATE TABLE`` statement, or just a column list.

    Returns:
        The columns.

    Raises:
        SchemaError: The statement has no readable column list.
    """
    columns, key = _parse(ddl)
    return [replace(c, nullable=False) if c.name in key else c for c in columns]


def primary_key_from_ddl(ddl: str) -> list[str]:
    """Primary-key column names of a ``CREATE TABLE`` statement; empty when it has none."""
    return _parse(ddl)[1]


@functools.lru_cache(maxsize=512)
def parse_type(type_text: str) -> DataType:
    """Parse a Flink type such as ``DECIMAL(10, 2)`` or ``ROW<a INT, b ARRAY<STRING>>``.

    Raises:
        SchemaError: The text is not a type.
    """
    tokens = _tokenize(type_text)
    if not tokens or tokens[0].kind != "word":
        raise SchemaError(f"{type_text!r} is not a Flink type; expected e.g. STRING or INT")
    name = _ALIASES.get(tokens[0].upper, tokens[0].upper)
    params: tuple[int, ...] = ()
    children: tuple[Column, ...] = ()
    i = 1
    while i < len(tokens) and tokens[i].upper in ("VARYING", "PRECISION"):
        i += 1  # CHARACTER VARYING(n), DOUBLE PRECISION
    if i < len(tokens) and tokens[i].text in "(<" and tokens[i].kind == "punct":
        inner, i = _bracketed(tokens, i, type_text)
        if name in _ANGLE_TYPES:
            children = _children(name, inner, type_text)
        else:
            params = _int_params(inner, type_text)
    trailing = {t.upper for t in tokens}
    if name == "TIMESTAMP" and "LOCAL" in trailing:
        name = "TIMESTAMP_LTZ"
    elif name in ("CHAR", "BINARY") and "VARYING" in trailing:
        name = "VAR" + name
    return DataType(name, params, children)


def _bracketed(tokens: list[_Token], start: int, text: str) -> tuple[list[_Token], int]:
    """Tokens inside the bracket opened at ``start``, and the index after its close."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].kind == "punct" and tokens[i].text in "(<":
            depth += 1
        elif tokens[i].kind == "punct" and tokens[i].text in ")>":
            depth -= 1
            if depth == 0:
                return tokens[start + 1:i], i + 1
    raise SchemaError(f"unbalanced brackets in type {text!r}; close every '(' and '<'")


def _int_params(inner: list[_Token], text: str) -> tuple[int, ...]:
    values = [t.text for t in inner if t.text != ","]
    if not all(v.isdigit() for v in values):
        raise SchemaError(f"type {text!r} has non-integer parameters; write e.g. DECIMAL(10, 2)")
    return tuple(int(v) for v in values)


def _children(name: str, inner: list[_Token], text: str) -> tuple[Column, ...]:
    parts = _split_top_level(inner)
    if name == "ROW":
        return tuple(_field(part, f"type {text!r}")[0] for part in parts)
    labels = ("key", "value") if name == "MAP" else ("element",)
    if len(parts) != len(labels):
        raise SchemaError(f"type {text!r} needs {len(labels)} type argument(s), e.g. "
                          f"{'MAP<STRING, INT>' if name == 'MAP' else name + '<STRING>'}")
    children = []
    for label, part in zip(labels, parts, strict=True):
        type_tokens, rest = _split_constraints(part)
        children.append(Column(label, _render(type_tokens), not _not_null(rest)))
    return tuple(children)
