"""`cutover bench parity`: how fast a PostgreSQL table is diffed against its Iceberg table.

The table (``--rows``, default 1M: id, owner, balance) is generated in PostgreSQL,
copied into an Iceberg table of the stack's catalog, and then 20 rows differ (10 changed,
5 deleted, 5 added on the PostgreSQL side). Each run reads both sides and diffs them.
Anchors in the same run: a raw ``COPY ... TO STDOUT`` of the table (bytes only, no
parsing) and a raw pyarrow read of the Iceberg data files (no catalog, no deletes), so
the figures compare with what the machine does at all, not with another day's numbers.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import psycopg

from harness.config import Config
from harness.iceberg import open_catalog
from harness.parity import DiffSpec, IcebergSide, PostgresRelation, diff_tables
from harness.stack.endpoint import IcebergEndpoint, PostgresEndpoint
from harness.stack.namespace import Namespace, namespace_name
from harness.stack.stack import Stack


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _raw_copy(dsn: str, table: str) -> int:
    size = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, \
            cur.copy(f"COPY {table} TO STDOUT (FORMAT csv)".encode()) as copy:
        for chunk in copy:
            size += len(chunk)
    return size


def _raw_parquet(endpoint: IcebergEndpoint, identifier: str) -> int:
    """Read the table's data files with pyarrow alone: no catalog, no deletes applied."""
    import pyarrow.parquet as pq

    with open_catalog(endpoint) as catalog:
        tasks = catalog.load_table(identifier).scan().plan_files()
        paths = [t.file.file_path.removeprefix("file://").removeprefix("file:") for t in tasks]
    return sum(pq.read_table(path).num_rows for path in paths)


def bench_parity(config: Config, *, rows: int = 1_000_000, runs: int = 3,
                 progress: Callable[[str], None] = print) -> dict[str, Any]:
    with Stack(config, progress=progress) as stack:
        stack.require("postgres", "iceberg")
        pg, iceberg = stack.endpoint("postgres"), stack.endpoint("iceberg")
        assert isinstance(pg, PostgresEndpoint) and isinstance(iceberg, IcebergEndpoint)
        namespace = Namespace(stack, namespace_name("bench_parity"))
        table = f'"{namespace.schema}".accounts'
        progress(f"generating {rows} rows in PostgreSQL and Iceberg")
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, owner text, "
                         "balance double precision)".encode())
            conn.execute(f"INSERT INTO {table} SELECT g, 'owner-' || (g % 1000), "
                         f"round((random() * 1e6)::numeric, 2) FROM generate_series(1, {rows}) g"
                         .encode())
        relation = PostgresRelation(pg.dsn, namespace.schema, "accounts")
        identifier = f"{namespace.iceberg_database}.accounts"
        copied = relation.snapshot().table
        with open_catalog(iceberg) as catalog:
            catalog.create_table(identifier, schema=copied.schema).append(copied)
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute(f"UPDATE {table} SET balance = balance + 1 WHERE id % 100000 = 7"
                         .encode())
            conn.execute(f"DELETE FROM {table} WHERE id IN (11, 12, 13, 14, 15)".encode())
            conn.execute(f"INSERT INTO {table} VALUES (-1, 'x', 0), (-2, 'x', 0), (-3, 'x', 0),"
                         " (-4, 'x', 0), (-5, 'x', 0)".encode())
        side = IcebergSide(iceberg, identifier)
        samples: dict[str, list[float]] = {k: [] for k in (
            "raw_copy_s", "raw_parquet_s", "postgres_read_s", "iceberg_read_s", "diff_s",
            "total_s")}
        differing = 0
        for run in range(runs):
            progress(f"run {run + 1} of {runs}")
            samples["raw_copy_s"].append(_timed(lambda: _raw_copy(pg.dsn, table))[0])
            samples["raw_parquet_s"].append(_timed(lambda: _raw_parquet(iceberg, identifier))[0])
            read_pg, snapshot = _timed(relation.snapshot)
            read_ice, right = _timed(side.read)
            spent, diff = _timed(lambda s=snapshot, r=right: diff_tables(  # type: ignore[misc]
                s.table, r, DiffSpec(("id",))))
            samples["postgres_read_s"].append(read_pg)
            samples["iceberg_read_s"].append(read_ice)
            samples["diff_s"].append(spent)
            samples["total_s"].append(read_pg + read_ice + spent)
            differing = len(diff.differences)
        namespace.clean()
    median = {k: statistics.median(v) for k, v in samples.items()}
    return {
        "benchmark": "parity",
        "rows": rows,
        "differing_keys_found": differing,
        "differing_keys_made": 20,
        "diff_rows_per_s": round(rows / median["diff_s"]),
        "end_to_end_rows_per_s": round(rows / median["total_s"]),
        "raw_copy_rows_per_s": round(rows / median["raw_copy_s"]),
        "postgres_read_vs_raw_copy": round(median["raw_copy_s"] / median["postgres_read_s"], 2),
        "iceberg_read_vs_raw_parquet": round(median["raw_parquet_s"] / median["iceberg_read_s"],
                                             2),
        **{k: round(v, 3) for k, v in median.items()},
        "samples": {k: [round(x, 3) for x in v] for k, v in samples.items()},
    }
