"""The shift_left project layout.

::

    pipelines/
      inventory.json                   optional: table name -> where its files are
      <sources|intermediates|facts|dimensions|views>/[<product>/]<table>/
        pipeline_definition.json       optional: table_name, type, parents, children
        sql-scripts/ddl.<table>.sql
        sql-scripts/dml.<table>.sql

The DML is the truth for the DAG: a table's name is the target of its INSERT, its
parents the tables the INSERT reads. ``pipeline_definition.json`` gives the layer
(``type``) and is cross-checked; ``inventory.json`` only locates files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.pipeline.errors import PipelineError
from harness.pipeline.files import guess_layer, read_json, read_sql, refs_with_warning
from harness.pipeline.lexer import SqlStatement, split_statements, statement_kind
from harness.pipeline.model import PipelineModel, TableStatement
from harness.pipeline.sqlrefs import created_table

# seeds: tables filled by INSERT ... VALUES, a layer some projects add below the sources
LAYER_DIRS = {"sources": "source", "intermediates": "intermediate", "facts": "fact",
              "dimensions": "dimension", "views": "view", "seeds": "source"}
_TYPES = {**LAYER_DIRS, **{layer: layer for layer in LAYER_DIRS.values()}, "seed": "source"}
_DEFINITION_FIX = ("fix it, or regenerate it with `shift_left pipeline build-metadata` "
                   "(the file is optional: deleting it also works)")
_INVENTORY_FIX = ("fix it, or rebuild it with `shift_left table build-inventory` "
                  "(the file is optional: deleting it also works)")


@dataclass
class _Folder:
    """A table folder and the script files found for it."""

    path: Path
    layer: str
    product: str
    ddl: Path | None = None
    dml: Path | None = None


@dataclass
class _Loaded:
    table: TableStatement
    listed_parents: set[str] | None
    definition_path: Path


def find_pipelines_root(path: Path) -> Path | None:
    """The ``pipelines`` folder of a shift_left project at ``path``, or None."""
    for candidate in (path / "pipelines", path):
        if (candidate / "inventory.json").is_file() or any(
                any(p.is_dir() for p in (candidate / layer_dir).rglob("sql-scripts"))
                for layer_dir in LAYER_DIRS if (candidate / layer_dir).is_dir()):
            return candidate
    return None


def load_shift_left(root: Path) -> PipelineModel:
    """Read a shift_left ``pipelines`` folder.

    Args:
        root: The ``pipelines`` folder.

    Returns:
        The pipeline model, with warnings where files disagree with each other.
    """
    warnings: list[str] = []
    folders = _walk(root)
    _apply_inventory(root, folders, warnings=warnings)
    loaded = [item for folder in folders.values()
              for item in _load_folder(folder, warnings=warnings)]
    known = {item.table.name for item in loaded}
    for item in loaded:
        _cross_check(item, known, warnings=warnings)
    return PipelineModel([item.table for item in loaded], warnings=warnings)


def _walk(root: Path) -> dict[Path, _Folder]:
    """Table folders (parents of ``sql-scripts``) under the layer folders, by real path."""
    folders: dict[Path, _Folder] = {}
    for layer_dir, layer in LAYER_DIRS.items():
        base = root / layer_dir
        if not base.is_dir():
            continue
        for scripts in sorted(base.rglob("sql-scripts")):
            if scripts.is_dir():
                parts = scripts.parent.relative_to(base).parts
                product = parts[0] if len(parts) > 1 else ""
                folders[scripts.parent.resolve()] = _Folder(scripts.parent, layer, product)
    return folders


def _resolve(ref: Any, root: Path) -> Path | None:
    """An inventory path (relative to the project or to ``pipelines``) that exists."""
    if not isinstance(ref, str) or not ref:
        return None
    for base in (root.resolve().parent, root.resolve()):
        candidate = base / ref
        if candidate.exists():
            return candidate
    return None


def _apply_inventory(root: Path, folders: dict[Path, _Folder], *,
                     warnings: list[str]) -> None:
    """Let ``inventory.json`` say where each table's folder and scripts are."""
    path = root / "inventory.json"
    if not path.is_file():
        return
    data = read_json(path, fix=_INVENTORY_FIX)
    if not isinstance(data, dict):
        raise PipelineError(f"{path} must map table names to entries with "
                            f"table_folder_name, ddl_ref and dml_ref; {_INVENTORY_FIX}")
    listed: set[Path] = set()
    for name, entry in sorted(data.items()):
        entry = entry if isinstance(entry, dict) else {}
        folder_path = _resolve(entry.get("table_folder_name"), root)
        if folder_path is None:
            warnings.append(f"{path}: table {name!r} has no existing table_folder_name "
                            f"({entry.get('table_folder_name')!r}); {_INVENTORY_FIX}")
            continue
        folder = folders.setdefault(folder_path.resolve(), _Folder(
            folder_path, _TYPES.get(str(entry.get("type", "")).lower(), guess_layer(name)),
            str(entry.get("product_name") or "")))
        folder.ddl = _resolve(entry.get("ddl_ref"), root) or folder.ddl
        folder.dml = _resolve(entry.get("dml_ref"), root) or folder.dml
        listed.add(folder_path.resolve())
    for real, folder in folders.items():
        if real not in listed:
            warnings.append(f"{folder.path}: not listed in {path}; {_INVENTORY_FIX}")


def _script(folder: Path, kind: str, *, warnings: list[str]) -> Path | None:
    """``sql-scripts/<kind>.*.sql`` of a table folder; extra matches are reported."""
    found = sorted((folder / "sql-scripts").glob(f"{kind}.*.sql"))
    if len(found) > 1:
        warnings.append(f"{folder}/sql-scripts: several {kind}.*.sql files; using "
                        f"{found[0].name}, ignoring {', '.join(p.name for p in found[1:])}")
    return found[0] if found else None


def _read_definition(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    data = read_json(path, fix=_DEFINITION_FIX)
    if not isinstance(data, dict) or not isinstance(data.get("table_name"), str) \
            or not data["table_name"]:
        raise PipelineError(f"{path} has no \"table_name\" (the table the folder's DML "
                            f"writes); {_DEFINITION_FIX}")
    return data


def _dml_targets(dml: str, path: Path | None, *,
                 warnings: list[str]) -> dict[str, tuple[set[str], list[SqlStatement]]]:
    """Each table a DML file writes, with the tables and the statements that write it."""
    targets: dict[str, tuple[set[str], list[SqlStatement]]] = {}
    if path is None:
        return targets
    statements = [s for s in split_statements(dml) if statement_kind(s.text) in ("dml", "ctas")]
    for statement in statements:
        refs = refs_with_warning(statement, path, warnings=warnings)
        if refs.written:
            reads, found = targets.setdefault(refs.written, (set(), []))
            reads.update(refs.reads)
            found.append(statement)
    for name, (reads, _) in targets.items():
        reads.discard(name)
    return targets


def _table_name(folder: _Folder, written: str, *, definition: dict[str, Any] | None,
                ddl: str, warnings: list[str]) -> str:
    declared = str(definition["table_name"]) if definition else ""
    if written and declared and written != declared:
        warnings.append(f"{folder.dml}: writes {written!r} but pipeline_definition.json "
                        f"names {declared!r}; taking {written!r}, fix whichever is wrong")
    from_file = next((p.name.split(".")[1] for p in (folder.dml, folder.ddl)
                      if p is not None and p.name.count(".") >= 2), "")
    return written or declared or from_file or created_table(ddl) or folder.path.name


def _layer(folder: _Folder, definition: dict[str, Any] | None, *, path: Path,
           warnings: list[str]) -> str:
    declared = str(definition.get("type") or "") if definition else ""
    if declared and declared.lower() not in _TYPES:
        warnings.append(f"{path}: unknown type {declared!r}; using {folder.layer!r} from "
                        f"the folder (types: {', '.join(sorted(set(_TYPES.values())))})")
    return _TYPES.get(declared.lower(), folder.layer)


def _load_folder(folder: _Folder, *, warnings: list[str]) -> list[_Loaded]:
    definition_path = folder.path / "pipeline_definition.json"
    definition = _read_definition(definition_path)
    folder.dml = folder.dml or _script(folder.path, "dml", warnings=warnings)
    dml = read_sql(folder.dml) if folder.dml else ""
    targets = _dml_targets(dml, folder.dml, warnings=warnings)
    if len(targets) > 1:  # a statement set: one table per INSERT target, as shift_left runs it
        return [_set_member(folder, name, *found, definition=definition,
                            definition_path=definition_path, warnings=warnings)
                for name, found in sorted(targets.items())]
    folder.ddl = folder.ddl or _script(folder.path, "ddl", warnings=warnings)
    if folder.ddl is None and folder.dml is None:
        warnings.append(f"{folder.path}/sql-scripts: no ddl.<table>.sql or dml.<table>.sql; "
                        f"skipped (add the scripts or remove the folder)")
        return []
    ddl = read_sql(folder.ddl) if folder.ddl else ""
    written = next(iter(targets), "")
    parents = tuple(sorted(targets[written][0])) if written else ()
    name = _table_name(folder, written, definition=definition, ddl=ddl,
                       warnings=warnings)
    table = TableStatement(
        name, _layer(folder, definition, path=definition_path, warnings=warnings),
        product=str((definition or {}).get("product_name") or folder.product),
        ddl=ddl if ddl.strip() else "", dml=dml if dml.strip() else "", parents=parents,
        ddl_path=folder.ddl, dml_path=folder.dml)
    listed = None
    if definition is not None and isinstance(definition.get("parents"), list):
        listed = {str(p.get("table_name") if isinstance(p, dict) else p)
                  for p in definition["parents"]}
    return [_Loaded(table, listed, definition_path)]


def _set_member(folder: _Folder, name: str, reads: set[str], statements: list[SqlStatement],
                *, definition: dict[str, Any] | None, definition_path: Path,
                warnings: list[str]) -> _Loaded:
    """One INSERT of a statement set, its DDL from ``sql-scripts/ddl.<name>.sql``."""
    found = folder.path / "sql-scripts" / f"ddl.{name}.sql"
    ddl_path = found if found.is_file() else None
    # Blank lines up to each statement keep file:line of what is read in it.
    dml, line = "", 1
    for statement in statements:
        dml += "\n" * (statement.line - line) + statement.text + ";"
        line = statement.line + statement.text.count("\n")
    table = TableStatement(
        name, _layer(folder, definition, path=definition_path, warnings=warnings),
        product=str((definition or {}).get("product_name") or folder.product),
        ddl=read_sql(ddl_path) if ddl_path else "", dml=dml, parents=tuple(sorted(reads)),
        ddl_path=ddl_path, dml_path=folder.dml)
    return _Loaded(table, None, definition_path)


def _cross_check(item: _Loaded, known: set[str], *, warnings: list[str]) -> None:
    """Warn when pipeline_definition.json's parents disagree with what the DML reads.

    Parents without a folder in the project (raw topics) may be left out of the file.
    """
    if item.listed_parents is None or not item.table.dml:
        return
    parsed = set(item.table.parents)
    missing = {p for p in parsed - item.listed_parents if p in known}
    extra = item.listed_parents - parsed
    if missing or extra:
        warnings.append(
            f"{item.definition_path}: parents {sorted(item.listed_parents)} disagree with "
            f"what {item.table.dml_path} reads {sorted(parsed)}; regenerate the file "
            f"(`shift_left pipeline build-metadata`) or fix the DML")
