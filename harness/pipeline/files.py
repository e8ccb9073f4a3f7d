"""Reading project files: text, JSON, statement references, and layer names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.pipeline.errors import PipelineError
from harness.pipeline.lexer import SqlStatement
from harness.pipeline.sqlrefs import StatementRefs, statement_refs

_PREFIX_LAYERS = (
    (("src_", "source"), "source"),
    (("int_",), "intermediate"),
    (("fct_", "fact_"), "fact"),
    (("dim_",), "dimension"),
    (("v_", "vw_", "view_"), "view"),
)


def guess_layer(name: str) -> str:
    """The layer a table name's prefix suggests (src_, int_, fct_, dim_, v_), else intermediate."""
    lowered = name.lower()
    for prefixes, layer in _PREFIX_LAYERS:
        if lowered.startswith(prefixes):
            return layer
    return "intermediate"


def read_sql(path: Path) -> str:
    """The text of a SQL or JSON file; unreadable files raise with the path."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"cannot read {path}: {exc}; make it a readable UTF-8 file "
                            f"or remove it from the project") from exc


def refs_with_warning(statement: SqlStatement, path: Path, *,
                      warnings: list[str]) -> StatementRefs:
    """The references of one statement; a pattern fallback adds a file:line warning."""
    refs = statement_refs(statement.text)
    if refs.parse_error:
        line = statement.line + refs.error_line - 1
        warnings.append(f"{path}:{line}: could not parse ({refs.parse_error}); "
                        f"table references extracted by pattern")
    return refs


def read_json(path: Path, *, fix: str) -> Any:
    """Parse a JSON file; invalid JSON raises with the path, position and ``fix``."""
    try:
        return json.loads(read_sql(path))
    except json.JSONDecodeError as exc:
        raise PipelineError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno} (char {exc.pos}); {fix}") from exc
