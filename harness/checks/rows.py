"""Checks over rows read from sinks (dicts), against each other or against a ledger."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from harness.checks.result import EXAMPLES, CheckResult

Row = Mapping[str, Any]


def _key(row: Row, key: str | Sequence[str]) -> Any:
    return row.get(key) if isinstance(key, str) else tuple(row.get(k) for k in key)


def no_duplicates(rows: Iterable[Row], key: str | Sequence[str], *, sink: str) -> CheckResult:
    """No two live rows of ``sink`` share ``key``."""
    counts = Counter(_key(row, key) for row in rows)
    dupes = {k: n for k, n in counts.items() if n > 1}
    examples = sorted(dupes.items(), key=str)[:EXAMPLES]
    return CheckResult(
        f"no_duplicates({sink})", not dupes,
        f"{len(dupes)} duplicated keys among {sum(counts.values())} rows",
        {"sink": sink, "key": key, "rows": sum(counts.values()),
         "duplicated_keys": len(dupes), "examples": [[str(k), n] for k, n in examples]})


def nothing_lost(expected_keys: Iterable[Any], rows: Iterable[Row], key: str | Sequence[str],
                 *, sink: str) -> CheckResult:
    """Every key the ledger says was acknowledged is in ``sink``."""
    expected = set(expected_keys)
    present = {_key(row, key) for row in rows}
    missing = expected - present
    return CheckResult(
        f"nothing_lost({sink})", not missing,
        f"{len(missing)} of {len(expected)} acknowledged keys missing",
        {"sink": sink, "expected": len(expected), "present": len(present & expected),
         "missing": len(missing), "examples": sorted(map(str, missing))[:EXAMPLES]})


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal values; floats within a relative 1e-9 (sums and averages of DOUBLE depend on
    the order rows arrive in, which differs between two jobs reading several partitions)."""
    return len(a) == len(b) and all(
        x == y or (isinstance(x, float) and isinstance(y, float)
                   and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12))
        for x, y in zip(a, b, strict=True))


def parity(v1_rows: Iterable[Row], v2_rows: Iterable[Row], *, key: str | Sequence[str],
           columns: Sequence[str], name: str, written: tuple[Iterable[Row], Iterable[Row]]
           | None = None) -> CheckResult:
    """v1 and v2 hold the same keys with the same values in ``columns`` (the unchanged ones).

    ``written`` is every row each version wrote, in order (an upsert sink's changelog).
    Where several inputs upsert one key (a fact keyed by customer, fed by orders), which
    write comes last depends on the order two jobs happened to read their partitions
    in. A key whose final rows differ, but each version also wrote the other's final
    row, is *order-dependent*: reported, not a failure. A v2 computing other values, or
    missing an update v1 made, wrote no such row and still fails.
    """
    v1 = {_key(r, key): tuple(r.get(c) for c in columns) for r in v1_rows}
    v2 = {_key(r, key): tuple(r.get(c) for c in columns) for r in v2_rows}
    only_v1, only_v2 = v1.keys() - v2.keys(), v2.keys() - v1.keys()
    differ = sorted((k for k in v1.keys() & v2.keys() if not _same(v1[k], v2[k])), key=str)
    history: tuple[dict[Any, list[tuple[Any, ...]]], ...] = ({}, {})
    for rows, seen in zip(written or ((), ()), history, strict=True):
        for r in rows:
            seen.setdefault(_key(r, key), []).append(tuple(r.get(c) for c in columns))
    order_dependent = [k for k in differ
                       if any(_same(v2[k], w) for w in history[0].get(k, ()))
                       and any(_same(v1[k], w) for w in history[1].get(k, ()))]
    differ = [k for k in differ if k not in order_dependent]
    ok = not (only_v1 or only_v2 or differ)
    examples = [{"key": str(k), "v1": v1[k], "v2": v2[k]} for k in differ]
    evidence = {"v1_rows": len(v1), "v2_rows": len(v2),
                "only_v1": sorted(map(str, only_v1))[:EXAMPLES],
                "only_v2": sorted(map(str, only_v2))[:EXAMPLES], "differ": examples[:EXAMPLES]}
    summary = (f"{len(only_v1)} keys only in v1, {len(only_v2)} only in v2, {len(differ)} "
               f"differ on {list(columns)}")
    if order_dependent:
        summary += (f"; {len(order_dependent)} more end on different rows that both "
                    "versions wrote (several inputs upsert one key; the last one wins)")
        evidence["order_dependent"] = [
            {"key": str(k), "v1": v1[k], "v2": v2[k], "v1_wrote": history[0][k][-EXAMPLES:],
             "v2_wrote": history[1][k][-EXAMPLES:]} for k in order_dependent[:EXAMPLES]]
    return CheckResult(f"parity({name})", ok, summary, evidence)


def new_field_everywhere(rows: Iterable[Row], field: str, *, sink: str,
                         allowed: Iterable[Any] | None = None) -> CheckResult:
    """Every row of ``sink`` carries ``field`` (non-null, and in ``allowed`` if given)."""
    allowed_set = set(allowed) if allowed is not None else None
    rows = list(rows)
    bad = [r for r in rows if r.get(field) is None
           or (allowed_set is not None and r.get(field) not in allowed_set)]
    return CheckResult(
        f"new_field_everywhere({sink}.{field})", bool(rows) and not bad,
        f"{len(bad)} of {len(rows)} rows lack a valid {field}",
        {"sink": sink, "field": field, "rows": len(rows), "bad": len(bad),
         "examples": [dict(r) for r in bad[:EXAMPLES]]})
