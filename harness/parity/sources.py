"""The two sides of a parity diff, as Arrow: a PostgreSQL relation and an Iceberg table.

The PostgreSQL side is read in one REPEATABLE READ transaction that first takes the WAL
position, so the rows are the relation as of that LSN (every transaction committed
before it, none after). Rows travel as CSV through COPY, which PostgreSQL writes and
pyarrow parses far faster than row-by-row fetching; NULL is an unquoted empty field and
an empty string a quoted one, so the two never mix.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from harness.iceberg import read_table
from harness.parity.diff import ParityError
from harness.stack.endpoint import IcebergEndpoint

# PostgreSQL type OIDs -> Arrow types (anything else is read as text).
_ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(), 20: pa.int64(), 21: pa.int64(), 23: pa.int64(), 26: pa.int64(),
    700: pa.float64(), 701: pa.float64(), 1700: pa.float64(),
    1082: pa.date32(), 1114: pa.timestamp("us"), 1184: pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class PostgresSnapshot:
    """A relation's rows as of ``lsn`` (``pg_current_wal_lsn()`` in the same snapshot)."""

    table: pa.Table
    lsn: str
    relation: str


@dataclass(frozen=True)
class PostgresRelation:
    """A table or view to read: ``schema.name``, its columns (all when empty)."""

    dsn: str
    schema: str
    name: str
    columns: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"postgres {self.schema}.{self.name}"

    def _select(self, where: sql.Composable | None = None) -> sql.Composed:
        cols = sql.SQL(", ").join(map(sql.Identifier, self.columns)) if self.columns \
            else sql.SQL("*")
        query = sql.SQL("SELECT {} FROM {}").format(cols, sql.Identifier(self.schema,
                                                                           self.name))
        return query if where is None else sql.SQL("{} WHERE {}").format(query, where)

    def snapshot(self) -> PostgresSnapshot:
        """The rows and the WAL position they are consistent with.

        Raises:
            ParityError: The relation or a column does not exist (names it).
        """
        with psycopg.connect(self.dsn, autocommit=False) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            lsn = str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]
            table = self._copy(conn, self._select())
            conn.rollback()
        return PostgresSnapshot(table, lsn, self.label)

    def rows_for(self, key: Sequence[str], keys: Sequence[dict[str, Any]]) -> pa.Table:
        """The current rows of the given keys (a re-read of differing keys)."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            if not keys:
                return self._copy(conn, self._select(sql.SQL("false")))
            rows = sql.SQL(", ").join(
                sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(k[c]) for c in key))
                for k in keys)
            where = sql.SQL("({}) IN ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, key)), rows)
            return self._copy(conn, self._select(where))

    def _copy(self, conn: psycopg.Connection[Any], query: sql.Composed) -> pa.Table:
        try:
            with conn.cursor() as cur:
                # Times as pyarrow parses them, whatever the server's defaults.
                cur.execute("SET LOCAL DateStyle TO ISO, YMD" if not conn.autocommit
                            else "SET DateStyle TO ISO, YMD")
                cur.execute(sql.SQL("{} LIMIT 0").format(query))
                names = [d.name for d in cur.description or []]
                types = {d.name: _ARROW_TYPES.get(d.type_code, pa.string())
                         for d in cur.description or []}
                buffer = io.BytesIO()
                with cur.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)) as copy:
                    for chunk in copy:
                        buffer.write(chunk)
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                psycopg.errors.InvalidSchemaName) as exc:
            raise ParityError(f"{self.label}: {str(exc).splitlines()[0]}") from exc
        if not buffer.tell():
            return pa.schema([(n, types[n]) for n in names]).empty_table()
        buffer.seek(0)
        # A one-column NULL row is an empty line: kept. Booleans are t/f in PostgreSQL.
        return pacsv.read_csv(
            buffer, read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False,
                null_values=[""], true_values=["t"], false_values=["f"]))


@dataclass(frozen=True)
class IcebergSide:
    """An Iceberg table of the stack's catalog, read with deletes applied."""

    endpoint: IcebergEndpoint
    identifier: str

    @property
    def label(self) -> str:
        return f"iceberg {self.identifier}"

    def read(self) -> pa.Table:
        """The live rows at the current snapshot.

        Raises:
            ParityError: The table does not exist (names it).
        """
        from pyiceberg.exceptions import NoSuchTableError

        try:
            return read_table(self.endpoint, self.identifier)
        except NoSuchTableError as exc:
            raise ParityError(f"{self.label} does not exist; is its sink statement "
                              "deployed?") from exc
