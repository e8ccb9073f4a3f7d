"""Reading Iceberg tables for checks: pyiceberg's catalog, merge-on-read in DuckDB.

Flink's upsert writer produces Iceberg v2 equality deletes, which pyiceberg 0.12 refuses
to scan ("PyIceberg does not yet support equality deletes"). This reader uses pyiceberg for
the catalog and metadata (snapshots, manifests, sequence numbers), reads every data and
delete file with pyarrow, and applies the v2 rules itself:

- a position delete removes row ``pos`` of ``file_path`` in data files with a data
  sequence number <= its own;
- an equality delete removes rows whose equality columns match, in data files with a
  data sequence number < its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.manifest import DataFileContent
from pyiceberg.table import Table

from harness.sqltext import quote_identifier as quote
from harness.stack.endpoint import IcebergEndpoint


@contextmanager
def open_catalog(endpoint: IcebergEndpoint) -> Iterator[SqlCatalog]:
    """pyiceberg's view of the stack's catalog (same name and tables as Flink's).

    Closes its connection pool on exit, so no PostgreSQL connection outlives the use.
    """
    catalog = SqlCatalog(endpoint.catalog, uri=endpoint.sqlalchemy_uri,
                         warehouse=endpoint.warehouse)
    try:
        yield catalog
    finally:
        catalog.engine.dispose()


def local_path(path: str) -> str:
    """A warehouse file URI as a local path."""
    return path.removeprefix("file://").removeprefix("file:")


def _read(path: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(local_path(path), columns=columns)


def read_table(endpoint: IcebergEndpoint, identifier: str) -> pa.Table:
    """The live rows of an Iceberg table at its current snapshot, as Arrow."""
    with open_catalog(endpoint) as catalog:
        return merge_on_read(catalog.load_table(identifier))


def committed_files(table: Table) -> list[tuple[str, int]]:
    """(local path, size in bytes as committed) of every live file of the current
    snapshot: data and delete files (pyiceberg's scan cannot plan equality deletes)."""
    snapshot = table.current_snapshot()
    if snapshot is None:
        return []
    return [(local_path(entry.data_file.file_path), entry.data_file.file_size_in_bytes)
            for manifest in snapshot.manifests(table.io)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)]


def merge_on_read(table: Table) -> pa.Table:
    """Apply the table's position and equality deletes to its data files.

    A snapshot without delete files is its data files as they are (no copy, no join);
    the bookkeeping columns (sequence number, and file and position for position
    deletes) are added only when some delete file needs them.
    """
    schema = table.schema()
    names = [field.name for field in schema.fields]
    snapshot = table.current_snapshot()
    if snapshot is None:
        return schema.as_arrow().empty_table()
    data: list[tuple[str, int, pa.Table]] = []
    positions: list[pa.Table] = []
    equalities: dict[tuple[str, ...], list[pa.Table]] = {}
    for manifest in snapshot.manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            file, seq = entry.data_file, entry.sequence_number or 0
            if file.content == DataFileContent.DATA:
                data.append((file.file_path, seq, _read(file.file_path, names)))
            elif file.content == DataFileContent.POSITION_DELETES:
                rows = _read(file.file_path, ["file_path", "pos"])
                positions.append(rows.append_column("_seq", _repeat(seq, len(rows))))
            else:
                keys = [schema.find_field(i).name for i in file.equality_ids or []]
                rows = _read(file.file_path, keys)
                equalities.setdefault(tuple(keys), []).append(
                    rows.append_column("_seq", _repeat(seq, len(rows))))
    if not data:
        return schema.as_arrow().empty_table()
    if not positions and not equalities:
        return pa.concat_tables([rows for _, _, rows in data], promote_options="default")
    marked = []
    for path, seq, rows in data:
        rows = rows.append_column("_seq", _repeat(seq, len(rows)))
        if positions:
            rows = rows.append_column("_file", pa.repeat(pa.scalar(path), len(rows))) \
                .append_column("_pos", pa.array(range(len(rows)), pa.int64()))
        marked.append(rows)
    return _apply_deletes(pa.concat_tables(marked, promote_options="default"), positions,
                          equalities, names)


def _repeat(value: int, count: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.int64()), count)


def _apply_deletes(data: pa.Table, positions: list[pa.Table],
                   equalities: dict[tuple[str, ...], list[pa.Table]],
                   names: list[str]) -> pa.Table:
    con = duckdb.connect()
    con.register("data", data)
    where = []
    if positions:
        con.register("pos", pa.concat_tables(positions))
        where.append("NOT EXISTS (SELECT 1 FROM pos p WHERE p.file_path = d._file "
                     "AND p.pos = d._pos AND p._seq >= d._seq)")
    for i, (keys, tables) in enumerate(equalities.items()):
        con.register(f"eq{i}", pa.concat_tables(tables))
        match = " AND ".join(f"e.{quote(k)} IS NOT DISTINCT FROM d.{quote(k)}" for k in keys)
        where.append(f"NOT EXISTS (SELECT 1 FROM eq{i} e WHERE {match} AND e._seq > d._seq)")
    columns = ", ".join(f"d.{quote(n)}" for n in names)
    sql = f"SELECT {columns} FROM data d" + (" WHERE " + " AND ".join(where) if where else "")
    result: pa.Table = con.sql(sql).to_arrow_table()
    return result


def query(sql: str, **tables: Any) -> pa.Table:
    """Run DuckDB SQL over Arrow tables given by name: ``query("select ...", t=table)``."""
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    result: pa.Table = con.sql(sql).to_arrow_table()
    return result
