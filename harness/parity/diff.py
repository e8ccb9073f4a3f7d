"""A table-level diff by key, data-diff style: checksums per key range, then the keys.

Both sides are Arrow tables (a PostgreSQL snapshot and an Iceberg table, say); DuckDB
does the work, so one engine hashes both sides the same way. Every compared value is
first normalized to a type family (integers to BIGINT, floating point and decimals to
DOUBLE rounded to ``float_decimals``, text, booleans, times), so an INT on one side and
a BIGINT on the other agree. The keys are split into ``segments`` ranges of the leading
key column (boundaries from both sides' keys, so the ranges are the same on both); a
segment whose row count and checksum agree holds the same rows. Only the segments that
differ are compared row by row, and there floating point values agree within
``10 ** -float_decimals`` relative, so a sum that was computed in a different order does
not differ.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from harness.errors import CutoverError
from harness.sqltext import quote_identifier as quote

BOUNDS_SAMPLE = 65536  # keys sampled for the range starts (both sides use the same)
EVIDENCE_KEYS = 20  # differing keys shown in a summary and in the evidence


class ParityError(CutoverError):
    """The two sides cannot be compared (a key or column is missing, types clash)."""


@dataclass(frozen=True)
class DiffSpec:
    """What to compare: the key columns, the value columns (all others when empty)."""

    key: tuple[str, ...]
    columns: tuple[str, ...] = ()
    float_decimals: int = 6
    segments: int = 64

    def __post_init__(self) -> None:
        if not self.key:
            raise ParityError("a diff needs at least one key column")
        if self.segments < 1:
            raise ParityError(f"segments must be >= 1, got {self.segments}")


@dataclass(frozen=True)
class KeyDifference:
    """One key whose rows differ: ``missing`` (only left), ``extra`` (only right),
    ``changed`` (both, some columns differ) or ``duplicate`` (a side holds it twice)."""

    key: dict[str, Any]
    kind: str
    left: dict[str, Any] | None = None
    right: dict[str, Any] | None = None
    columns: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "left": self.left, "right": self.right,
                "columns": list(self.columns)}

    def describe(self) -> str:
        key = ",".join(str(v) for v in self.key.values())
        if self.kind == "changed":
            cols = ", ".join(f"{c} {self.left and self.left.get(c)!r} != "
                             f"{self.right and self.right.get(c)!r}" for c in self.columns)
            return f"{key} ({cols})"
        return f"{key} ({self.kind})"


@dataclass(frozen=True)
class TableDiff:
    """The result: row counts, segments compared and differing, the differing keys."""

    left_name: str
    right_name: str
    left_rows: int
    right_rows: int
    segments: int
    differing_segments: list[dict[str, Any]]
    differences: list[KeyDifference]
    seconds: float
    columns: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.differences

    def count(self, kind: str) -> int:
        return sum(1 for d in self.differences if d.kind == kind)

    def summary(self) -> str:
        if self.ok:
            return (f"{self.left_name} and {self.right_name} agree: {self.left_rows} rows, "
                    f"{self.segments} key ranges")
        kinds = ", ".join(f"{self.count(k)} {k}" for k in
                          ("missing", "extra", "changed", "duplicate") if self.count(k))
        shown = "; ".join(d.describe() for d in self.differences[:5])
        more = f" and {len(self.differences) - 5} more" if len(self.differences) > 5 else ""
        return (f"{len(self.differences)} keys differ between {self.left_name} "
                f"({self.left_rows} rows) and {self.right_name} ({self.right_rows} rows): "
                f"{kinds}; in {len(self.differing_segments)} of {self.segments} key ranges; "
                f"{shown}{more}")

    def to_evidence(self, limit: int = EVIDENCE_KEYS) -> dict[str, Any]:
        return {"left": self.left_name, "right": self.right_name,
                "left_rows": self.left_rows, "right_rows": self.right_rows,
                "columns": list(self.columns), "segments": self.segments,
                "differing_segments": self.differing_segments[:limit],
                "differing_keys": len(self.differences),
                "differences": [d.to_json() for d in self.differences[:limit]],
                "seconds": round(self.seconds, 3)}


_FAMILIES = (
    (pa.types.is_boolean, "BOOLEAN"), (pa.types.is_integer, "BIGINT"),
    (pa.types.is_floating, "DOUBLE"), (pa.types.is_decimal, "DOUBLE"),
    (pa.types.is_string, "VARCHAR"), (pa.types.is_large_string, "VARCHAR"),
    (pa.types.is_date, "DATE"), (pa.types.is_timestamp, "TIMESTAMP"),
)


def _family(name: str, dtype: pa.DataType) -> str:
    if pa.types.is_timestamp(dtype) and dtype.tz is not None:
        return "TIMESTAMPTZ"
    for test, family in _FAMILIES:
        if test(dtype):
            return family
    if pa.types.is_null(dtype):
        return "NULL"
    raise ParityError(f"column {name!r} has type {dtype}, which the diff cannot compare; "
                      "leave it out of the compared columns")


def _families(left: pa.Table, right: pa.Table, names: list[str]) -> dict[str, str]:
    families = {}
    for name in names:
        a, b = _family(name, left.schema.field(name).type), \
            _family(name, right.schema.field(name).type)
        if "NULL" in (a, b):  # an all-null column read without a type
            a = b = b if a == "NULL" else a
        if a != b:
            raise ParityError(f"column {name!r} is {left.schema.field(name).type} on one "
                              f"side and {right.schema.field(name).type} on the other")
        families[name] = "DOUBLE" if a == "NULL" else a
    return families


def _cast(column: str, family: str) -> str:
    """The value in its family; a time with a zone as epoch microseconds (one instant,
    whatever the zone each side wrote it in)."""
    if family == "TIMESTAMPTZ":
        return f"epoch_us(CAST({quote(column)} AS TIMESTAMPTZ))"
    return f"CAST({quote(column)} AS {family})"


def _normal(column: str, family: str, decimals: int) -> str:
    return f"round({quote(column)}, {decimals})" if family == "DOUBLE" else quote(column)


def _check_columns(table: pa.Table, name: str, wanted: list[str]) -> None:
    missing = [c for c in wanted if c not in table.column_names]
    if missing:
        raise ParityError(f"{name} has no column {missing[0]!r} (it has "
                          f"{', '.join(table.column_names)})")


def diff_tables(left: pa.Table, right: pa.Table, spec: DiffSpec, *, left_name: str = "left",
                right_name: str = "right") -> TableDiff:
    """Compare ``left`` and ``right`` by ``spec.key``.

    Raises:
        ParityError: A key or compared column is missing on a side, or its types clash.
    """
    started = time.perf_counter()
    key = list(spec.key)
    values = list(spec.columns) or [c for c in left.column_names if c not in key]
    _check_columns(left, left_name, key + values)
    _check_columns(right, right_name, key + values)
    families = _families(left, right, key + values)
    con = duckdb.connect()
    con.register("l_raw", left.select(key + values))
    con.register("r_raw", right.select(key + values))
    # Each side keeps its values cast to the family (compared with a tolerance, row by
    # row) and hashes them rounded (so a checksum does not see float noise).
    cast = ", ".join(f"{_cast(c, families[c])} AS {quote(c)}" for c in key + values)
    rounded = ", ".join(_normal(c, families[c], spec.float_decimals) for c in key + values)
    for side in ("l", "r"):
        con.execute(f"CREATE TEMP TABLE {side} AS SELECT *, hash({rounded}) AS _h FROM "
                    f"(SELECT {cast} FROM {side}_raw)")
    lead = quote(key[0])
    # Range starts: quantiles of the leading key over a sample of both sides; a range is
    # [lo, next lo), and segment 0 holds NULL leading keys and keys below the first start.
    fractions = ", ".join(str(i / spec.segments) for i in range(1, spec.segments))
    quantiles = f"list_prepend(min(k), quantile_disc(k, [{fractions}]))" \
        if spec.segments > 1 else "[min(k)]"
    con.execute(f"CREATE TEMP TABLE bounds AS SELECT row_number() OVER (ORDER BY lo) AS seg, "
                f"lo FROM (SELECT DISTINCT unnest({quantiles}) AS lo FROM (SELECT k FROM "
                f"(SELECT {lead} AS k FROM l UNION ALL SELECT {lead} FROM r) WHERE k IS NOT "
                f"NULL USING SAMPLE {BOUNDS_SAMPLE} ROWS))")
    starts = [row[1] for row in con.execute("SELECT * FROM bounds ORDER BY seg").fetchall()]
    sums = {}
    for side in ("l", "r"):
        sums[side] = {row[0]: row[1:] for row in con.execute(
            f"SELECT coalesce(b.seg, 0), count(*), sum(_h::HUGEINT) FROM {side} "
            f"ASOF LEFT JOIN bounds b ON {side}.{lead} >= b.lo GROUP BY 1").fetchall()}
    differing = sorted(s for s in set(sums["l"]) | set(sums["r"])
                       if sums["l"].get(s) != sums["r"].get(s))
    segments = [{"segment": s, "from": _plain(starts[s - 1]) if s else None,
                 "before": _plain(starts[s]) if 0 < s < len(starts) else None,
                 "left_rows": int((sums["l"].get(s) or (0,))[0]),
                 "right_rows": int((sums["r"].get(s) or (0,))[0])} for s in differing]
    ranges = [_range(lead, s, starts) for s in differing]
    differences = _row_differences(con, key, values, families, spec, ranges, starts)
    con.close()
    return TableDiff(left_name, right_name, len(left), len(right), max(len(starts), 1),
                     segments if differences else [], differences,
                     time.perf_counter() - started, tuple(values))


def _range(lead: str, segment: int, starts: list[Any]) -> str:
    """The predicate of ``segment``'s key range (0: NULL leading keys)."""
    if segment == 0:
        return f"({lead} IS NULL OR {lead} < $b1)" if starts else "true"
    low = f"{lead} >= $b{segment}"
    if segment < len(starts):
        return f"({low} AND {lead} < $b{segment + 1})"
    return low


def _equal(column: str, family: str, decimals: int) -> str:
    a, b = f"a.{quote(column)}", f"b.{quote(column)}"
    if family == "DOUBLE":  # NULL against a value is a difference, not "unknown"
        tol = f"1e-{decimals}"
        return (f"({a} IS NOT DISTINCT FROM {b} OR coalesce(abs({a} - {b}) <= {tol} * "
                f"greatest(1.0, abs({a}), abs({b})), false))")
    return f"{a} IS NOT DISTINCT FROM {b}"


def _row_differences(con: duckdb.DuckDBPyConnection, key: list[str], values: list[str],
                     families: dict[str, str], spec: DiffSpec,
                     ranges: list[str], starts: list[Any]) -> list[KeyDifference]:
    if not ranges:
        return []
    params = {f"b{i + 1}": value for i, value in enumerate(starts)}
    used = {p: v for p, v in params.items()
            if any(re.search(rf"\${p}\b", r) for r in ranges)}
    where = " OR ".join(ranges)
    for side in ("l", "r"):
        con.execute(f"CREATE TEMP TABLE {side}_seg AS SELECT * FROM {side} WHERE {where}",
                    used)
    keys = ", ".join(quote(k) for k in key)
    found: list[KeyDifference] = []
    for side, name in (("l", "left"), ("r", "right")):
        for row in con.execute(f"SELECT {keys}, count(*) FROM {side}_seg GROUP BY {keys} "
                               f"HAVING count(*) > 1 ORDER BY {keys}").fetchall():
            copies = {"copies": int(row[-1])}
            found.append(KeyDifference(dict(zip(key, map(_plain, row[:-1]), strict=True)),
                                       "duplicate", left=copies if name == "left" else None,
                                       right=copies if name == "right" else None))
    dup = {tuple(d.key.values()) for d in found}
    on = " AND ".join(f"a.{quote(k)} IS NOT DISTINCT FROM b.{quote(k)}" for k in key)
    ka = ", ".join(f"a.{quote(k)}" for k in key)
    kb = ", ".join(f"b.{quote(k)}" for k in key)
    same = [f"({_equal(c, families[c], spec.float_decimals)})" for c in values]
    selected = [ka, kb, "a._h IS NOT NULL", "b._h IS NOT NULL",
                *(f"a.{quote(c)}" for c in values), *(f"b.{quote(c)}" for c in values), *same]
    sql = (f"SELECT {', '.join(selected)} FROM l_seg a FULL OUTER JOIN r_seg b ON {on} "
           f"WHERE a._h IS NULL OR b._h IS NULL OR NOT ({' AND '.join(same) or 'true'}) "
           f"ORDER BY {ka} NULLS LAST, {kb} NULLS LAST")
    n, m = len(key), len(values)
    for row in con.execute(sql).fetchall():
        has_l, has_r = row[2 * n], row[2 * n + 1]
        raw_key = row[:n] if has_l else row[n:2 * n]
        if tuple(map(_plain, raw_key)) in dup:
            continue
        key_dict = dict(zip(key, map(_plain, raw_key), strict=True))
        lvals = dict(zip(values, map(_plain, row[2 * n + 2:2 * n + 2 + m]), strict=True))
        rvals = dict(zip(values, map(_plain, row[2 * n + 2 + m:2 * n + 2 + 2 * m]),
                         strict=True))
        if has_l and has_r:
            eq = row[2 * n + 2 + 2 * m:]
            cols = tuple(c for c, ok in zip(values, eq, strict=True) if not ok)
            found.append(KeyDifference(key_dict, "changed", lvals, rvals, cols))
        else:
            found.append(KeyDifference(key_dict, "missing" if has_l else "extra",
                                       lvals if has_l else None, rvals if has_r else None))
    return found


def _plain(value: Any) -> Any:
    """A JSON-friendly value (times and decimals as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
