"""A user's PostgreSQL tables: created from their DDL file, described by the catalog.

cutover never parses the user's PostgreSQL DDL: it runs the file in the namespace's
schema (``search_path`` set to it, so unqualified names land there) and reads back what
PostgreSQL made of it from ``information_schema``: columns, types, defaults, the primary
key. Rows for such a table are generated from those types, in Flink's type names, so the
project's generator (and the predicates a source statement filters on) apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from harness.data.schema import Column
from harness.errors import ConfigError

# information_schema.columns.data_type -> the Flink type the generator fills
FLINK_TYPES = {
    "smallint": "SMALLINT", "integer": "INT", "bigint": "BIGINT",
    "real": "DOUBLE", "double precision": "DOUBLE", "numeric": "DOUBLE",
    "text": "STRING", "character varying": "STRING", "character": "STRING",
    "boolean": "BOOLEAN", "date": "DATE",
    "timestamp without time zone": "TIMESTAMP(3)",
    "timestamp with time zone": "TIMESTAMP_LTZ(3)",
}


@dataclass(frozen=True)
class PgColumn:
    name: str
    data_type: str
    nullable: bool
    default: str | None


@dataclass(frozen=True)
class PgTable:
    """One table as PostgreSQL describes it; ``key`` is its one-column primary key."""

    schema: str
    name: str
    columns: tuple[PgColumn, ...]
    key: str

    def column(self, name: str) -> PgColumn | None:
        return next((c for c in self.columns if c.name == name), None)

    def flink_columns(self) -> list[Column]:
        """The columns in Flink's types (what the generator fills).

        Raises:
            ConfigError: A column's type has no generator; names it.
        """
        columns = []
        for c in self.columns:
            flink = FLINK_TYPES.get(c.data_type)
            if flink is None:
                raise ConfigError(
                    f"column {self.name}.{c.name} is {c.data_type}, which cutover cannot "
                    f"generate; supported: {', '.join(sorted(FLINK_TYPES))}")
            columns.append(Column(c.name, flink, c.nullable))
        return columns


def _tables(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> set[str]:
    rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                        "table_schema = %s AND table_type = 'BASE TABLE'", (schema,))
    return {str(r[0]) for r in rows.fetchall()}


def run_in_schema(dsn: str, schema: str, text: str, *, what: str) -> None:
    """Run SQL statements with ``search_path`` set to ``schema``.

    Raises:
        ConfigError: PostgreSQL refused a statement; the message names ``what``.
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        try:
            conn.execute(text.encode())
        except psycopg.Error as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(f"{what}: PostgreSQL refused it: {first}") from exc


def create_tables(dsn: str, schema: str, ddl_file: Path) -> list[str]:
    """Run the user's DDL file in ``schema``; the names of the tables it created.

    Raises:
        ConfigError: The file is missing, PostgreSQL refused it, or it created no table.
    """
    if not ddl_file.is_file():
        raise ConfigError(f"--source-ddl {ddl_file}: no such file")
    with psycopg.connect(dsn, autocommit=True) as conn:
        before = _tables(conn, schema)
    run_in_schema(dsn, schema, ddl_file.read_text(), what=f"--source-ddl {ddl_file}")
    with psycopg.connect(dsn, autocommit=True) as conn:
        created = sorted(_tables(conn, schema) - before)
    if not created:
        raise ConfigError(f"--source-ddl {ddl_file} created no table; it should hold the "
                          "CREATE TABLE statements of the captured tables")
    return created


def describe(dsn: str, schema: str, table: str) -> PgTable:
    """The table's columns and primary key, from the catalog.

    Raises:
        ConfigError: The table has no single-column primary key (CDC rows are keyed).
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        columns = tuple(PgColumn(str(name), str(kind), nullable == "YES",
                                 None if default is None else str(default))
                        for name, kind, nullable, default in conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default FROM "
            "information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position", (schema, table)).fetchall())
        key = [str(r[0]) for r in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (f'"{schema}"."{table}"',)).fetchall()]
    if not key:
        raise ConfigError(
            f"table {schema}.{table} has no primary key, so it cannot be captured: Debezium "
            "keys change events by it, and the default replica identity gives updates and "
            "deletes no old row without one. Add a PRIMARY KEY (one column) to its DDL; "
            "nothing was captured or deployed")
    if len(key) != 1:
        raise ConfigError(f"table {schema}.{table} has a composite primary key "
                          f"({', '.join(key)}); cutover keys its ledger and the CDC rows by "
                          "one column: capture a table keyed by one column")
    return PgTable(schema, table, columns, key[0])


def split_statements(text: str) -> list[str]:
    """SQL statements split at ``;`` outside quotes, identifiers and comments (which
    are dropped)."""
    statements, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if text.startswith("--", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        if ch in "'\"":
            end = i + 1
            while end < len(text):
                if text[end] == ch and text[end + 1:end + 2] == ch:
                    end += 2  # a doubled quote inside the literal
                elif text[end] == ch:
                    break
                else:
                    end += 1
            current.append(text[i:end + 1])
            i = end + 1
            continue
        if ch == ";":
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    statements.append("".join(current).strip())
    return [s for s in statements if s]


_ALTER = re.compile(r"^\s*ALTER\s+TABLE\s", re.IGNORECASE)


def migration_statements(path: Path) -> list[str]:
    """The ALTER TABLE statements of a migration file (comments dropped).

    Raises:
        ConfigError: Missing file, no statement, or a statement that is not ALTER TABLE
            (cutover writes the rows itself, so it knows what each must hold).
    """
    if not path.is_file():
        raise ConfigError(f"--source-migration {path}: no such file")
    statements = split_statements(path.read_text())
    if not statements:
        raise ConfigError(f"--source-migration {path} holds no statement")
    other = [s for s in statements if not _ALTER.match(s)]
    if other:
        raise ConfigError(f"--source-migration {path}: {other[0].split()[0]} ... is not ALTER "
                          "TABLE; the file holds the schema change only, and cutover writes "
                          "the rows with the new columns itself")
    return statements


_ALTERED = re.compile(r'ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?((?:"(?:[^"]|"")+"|[\w$]+)'
                      r'(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\w$]+))?)', re.IGNORECASE)


def altered_table(statement: str) -> str:
    """The table an ALTER TABLE statement alters, as the catalog names it (unqualified;
    unquoted names folded to lower case)."""
    match = _ALTERED.match(statement.strip())
    if match is None:
        return ""
    last = re.split(r'\s*\.\s*(?=(?:[^"]*"[^"]*")*[^"]*$)', match.group(1))[-1]
    return last[1:-1].replace('""', '"') if last.startswith('"') else last.lower()


def constant_default(column: PgColumn) -> bool:
    """Whether the column's DEFAULT is one value for every old row (a literal or NULL),
    not an expression such as ``now()``."""
    if column.default is None:
        return True
    text = column.default.split("::")[0].strip()
    return not re.search(r"[()]", text) and not text.upper().startswith("CURRENT_")


def literal_default(column: PgColumn) -> object:
    """The value an old row reads for an added column: its DEFAULT as a Python value
    (``'standard'::text`` -> ``standard``, ``0`` -> 0), or None."""
    if column.default is None:
        return None
    text = column.default.split("::")[0].strip()
    if text.upper() == "NULL":
        return None
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text
