"""Checks of a source schema evolution: added columns carried, v2 keys equal to v1's."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from harness.checks.result import EXAMPLES, CheckResult
from harness.deploy.flink import FlinkDeployer
from harness.pipeline.plan import Redeploy


def _same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is actual
    if isinstance(expected, bool) or isinstance(actual, bool):
        return str(expected).lower() == str(actual).lower()
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(float(expected), float(actual), rel_tol=1e-9, abs_tol=1e-9)
    return str(expected) == str(actual)


def carried_columns(ledger: Mapping[Any, Mapping[str, Any]], rows: Iterable[Mapping[str, Any]],
                    *, key: str, sink: str, defaults: Mapping[str, Any],
                    not_comparable: Iterable[str] = ()) -> CheckResult:
    """Every row of ``sink`` carries the added columns as the source holds them: the
    value written (rows written or updated after the migration) or the DEFAULT (older
    rows). A column the statement does not output, or whose DEFAULT is an expression
    (``now()``: no single value to expect), is named and not compared."""
    not_comparable = sorted(not_comparable)
    rows = list(rows)
    present = {c for r in rows for c in r}
    compared = [c for c in defaults if c in present]
    wrong: list[dict[str, Any]] = []
    for row in rows:
        source = ledger.get(row.get(key))
        if source is None:
            continue
        for column in compared:
            expected = source.get(column, defaults[column])
            if not _same(expected, row.get(column)):
                wrong.append({"key": row.get(key), "column": column, "expected": expected,
                              "actual": row.get(column)})
    old = sum(1 for r in rows if any(c not in (ledger.get(r.get(key)) or {c: 0})
                                     for c in compared))
    skipped = sorted(set(defaults) - set(compared))
    note = f"; not in {sink}'s output, not compared: {skipped}" if skipped else ""
    if not_comparable:
        note += f"; DEFAULT is an expression, not compared: {not_comparable}"
    summary = (f"{len(wrong)} values of {compared} differ from the source in {len(rows)} rows "
               f"({old} rows older than the migration carry the default){note}")
    made = bool(compared or skipped or not_comparable)
    return CheckResult(f"added_columns_carried({sink})", not wrong and made, summary,
                       {"sink": sink, "compared": compared, "not_output": skipped,
                        "not_comparable": not_comparable,
                        "defaults": {c: defaults[c] for c in compared}, "rows": len(rows),
                        "rows_with_default": old, "wrong": len(wrong),
                        "examples": wrong[:EXAMPLES]})


def same_keys_as_v1(deployer: FlinkDeployer, step: Redeploy) -> CheckResult:
    """v2 of a redeployed table holds exactly the keys its v1 holds (nothing lost)."""
    problem = deployer.same_keys(step)
    return CheckResult(f"same_keys_as_v1({step.new_name})", problem is None,
                       problem or f"{step.new_name} holds the keys of {step.table}",
                       {"table": step.table, "v2": step.new_name})
