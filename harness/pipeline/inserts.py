"""INSERT statements Flink would reject when deployed, found before anything is deployed."""

from __future__ import annotations

from collections.abc import Iterable

from harness.pipeline.resolve import ColumnResolver, LineageError


class InsertColumnsError(LineageError):
    """An INSERT selects more or fewer columns than its table's DDL declares."""


def width_mismatch(lineage: ColumnResolver, table: str) -> str | None:
    """Why Flink rejects the INSERT of ``table`` for its column count, or None.

    An INSERT that names no target columns must select exactly the DDL's physical
    columns, in order. Only counted when the SELECT list has no ``*`` and the DDL no
    METADATA column (writable metadata columns count too, and are not read here).
    """
    parsed, declared = lineage.statement(table), lineage.ddl_columns(table)
    model = lineage.model.tables[table]
    if parsed is None or parsed.width is None or declared is None \
            or "METADATA" in model.ddl.upper() or parsed.width == len(declared):
        return None
    names = [c.name for c in declared]
    unfilled = [n for n in names if n not in parsed.targets]
    extra = [n for n in parsed.targets if n not in names]
    more = f" (not filled: {', '.join(unfilled)})" if unfilled and \
        parsed.width < len(declared) else f" (not in the DDL: {', '.join(extra)})" \
        if extra and parsed.width > len(declared) else ""
    return (f"{parsed.where}: the SELECT of {table} has {parsed.width} columns but "
            f"{model.ddl_path or 'its DDL'} declares {len(declared)}{more}, so Flink "
            f"rejects the INSERT; add the missing columns to the DDL or the SELECT (in "
            f"the DDL's order), or name the target columns: INSERT INTO {table} (...) "
            f"SELECT ...")


def require_matching_widths(lineage: ColumnResolver, tables: Iterable[str]) -> None:
    """Raise for every INSERT of ``tables`` whose column count differs from its DDL's.

    Raises:
        InsertColumnsError: One line per statement, each naming file:line and the fix.
    """
    found = [m for t in tables if (m := width_mismatch(lineage, t)) is not None]
    if found:
        raise InsertColumnsError("\n".join(dict.fromkeys(found)))
