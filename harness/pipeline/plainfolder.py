"""A plain folder of .sql files: each CREATE TABLE is a DDL, each INSERT INTO a DML.

Files may hold several statements separated by ``;``; statement sets are unwrapped into
their INSERT statements. Layers are guessed from table name prefixes.
"""

from __future__ import annotations

from pathlib import Path

from harness.pipeline.errors import PipelineError
from harness.pipeline.files import guess_layer, read_sql, refs_with_warning
from harness.pipeline.lexer import SqlStatement, split_statements, statement_kind
from harness.pipeline.model import PipelineModel, TableStatement
from harness.pipeline.sqlrefs import created_table


def load_plain_folder(root: Path) -> PipelineModel:
    """Read every ``*.sql`` file under ``root``: CREATE TABLE is DDL, INSERT INTO is DML.

    Args:
        root: Folder searched recursively; files are read in sorted order.

    Returns:
        The pipeline model.
    """
    files = sorted(root.rglob("*.sql"))
    if not files:
        raise PipelineError(f"no .sql files under {root}; point at a shift_left project "
                            f"(with a pipelines/ folder) or a folder of .sql files")
    warnings: list[str] = []
    fragments: list[TableStatement] = []
    for path in files:
        for statement in split_statements(read_sql(path)):
            fragment = _plain_fragment(statement, path, warnings=warnings)
            if fragment is not None:
                fragments.append(fragment)
    return PipelineModel(fragments, warnings=warnings)


def _plain_fragment(statement: SqlStatement, path: Path, *,
                    warnings: list[str]) -> TableStatement | None:
    kind = statement_kind(statement.text)
    if kind == "ddl":
        name = created_table(statement.text)
        if not name:
            warnings.append(f"{path}:{statement.line}: CREATE TABLE without a table name; "
                            f"skipped")
            return None
        return TableStatement(name, guess_layer(name), ddl=statement.text, ddl_path=path)
    if kind not in ("dml", "ctas"):
        return None
    refs = refs_with_warning(statement, path, warnings=warnings)
    if not refs.written:
        warnings.append(f"{path}:{statement.line}: no target table found in this INSERT; "
                        f"skipped (write it as INSERT INTO <table> ...)")
        return None
    return TableStatement(refs.written, guess_layer(refs.written), dml=statement.text,
                          parents=refs.reads, dml_path=path)
