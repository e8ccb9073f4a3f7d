"""Small pipeline projects written into a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LAYER_DIRS = {"source": "sources", "intermediate": "intermediates", "fact": "facts",
              "dimension": "dimensions", "view": "views"}


def ddl(name: str) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {name} (\n  id STRING,\n  val BIGINT,\n"
            f"  PRIMARY KEY (id) NOT ENFORCED\n) WITH ('connector' = 'kafka');\n")


def dml(name: str, *parents: str) -> str:
    sources = [f"{p} p{i}" for i, p in enumerate(parents)]
    joins = "".join(f"\nJOIN {s} ON p0.id = p{i + 1}.id" for i, s in enumerate(sources[1:]))
    return f"INSERT INTO {name}\nSELECT p0.id, p0.val\nFROM {sources[0]}{joins};\n"


def plain_project(root: Path, edges: dict[str, tuple[str, ...]], *,
                  externals: tuple[str, ...] = ()) -> Path:
    """One file per table holding its DDL and DML; externals get a DDL file only."""
    root.mkdir(parents=True, exist_ok=True)
    for name in externals:
        (root / f"{name}.sql").write_text(ddl(name))
    for name, parents in edges.items():
        (root / f"{name}.sql").write_text(ddl(name) + "\n" + dml(name, *parents))
    return root


def shift_left_table(pipelines: Path, name: str, *, layer: str, product: str = "p1",
                     parents: tuple[str, ...] = (), definition: Any = None,
                     with_ddl: bool = True) -> Path:
    """A shift_left table folder; ``definition`` (a dict or raw text) is written as is."""
    folder = pipelines / LAYER_DIRS[layer] / product / name
    scripts = folder / "sql-scripts"
    scripts.mkdir(parents=True)
    if with_ddl:
        (scripts / f"ddl.{name}.sql").write_text(ddl(name))
    if parents:
        (scripts / f"dml.{name}.sql").write_text(dml(name, *parents))
    if definition is not None:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        (folder / "pipeline_definition.json").write_text(text)
    return folder


def definition(name: str, layer: str, parents: tuple[str, ...]) -> dict[str, Any]:
    return {"table_name": name, "type": layer, "dml_ref": f"dml.{name}.sql",
            "ddl_ref": f"ddl.{name}.sql", "parents": [{"table_name": p} for p in parents],
            "children": []}


DIAMOND = {
    "src_a": ("raw_a",),
    "int_b": ("src_a",),
    "int_c": ("src_a",),
    "fct_d": ("int_b", "int_c"),
}
