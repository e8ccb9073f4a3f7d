"""Which statements a change redeploys, under which new names, with which SQL.

Following the blue/green runbook: a changed statement gets a new output table
(``int_x`` -> ``int_x_v2``), and so does every statement downstream of it, since its
joins are stateful and must read the new tables from the start. Statements upstream
keep running untouched; external tables (raw topics) are never redeployed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness.pipeline.errors import PipelineError
from harness.pipeline.model import PipelineModel, TableStatement
from harness.pipeline.sqlrefs import rename_tables

_VERSIONED = re.compile(r"^(?P<base>.+)_v(?P<number>\d+)$")


def next_version(name: str) -> str:
    """The name of a table's next version: ``x`` -> ``x_v2``, ``x_v2`` -> ``x_v3``."""
    match = _VERSIONED.match(name)
    if match is None:
        return f"{name}_v2"
    return f"{match['base']}_v{int(match['number']) + 1}"


@dataclass(frozen=True)
class Redeploy:
    """One statement to deploy again under a new table name.

    Attributes:
        table: The current table name.
        new_name: The table the new statement writes.
        reason: ``changed``, or ``reads <parent> (redeployed)`` for a descendant.
        layer: The table's layer.
        ddl: The DDL with the table renamed.
        dml: The DML with the table and its redeployed parents renamed.
        parents: Tables the new DML reads (new names for redeployed parents).
    """

    table: str
    new_name: str
    reason: str
    layer: str
    ddl: str
    dml: str
    parents: tuple[str, ...]


@dataclass(frozen=True)
class ImpactPlan:
    """What a change does to a running pipeline.

    Attributes:
        redeploy: Statements to deploy under new names, parents before children.
        unchanged: Tables whose statements keep running, sorted.
        external: Tables no statement writes (raw topics), sorted.
        order: Every table in topological order, for rendering.
        edges: ``(parent, child)`` for every read of the running pipeline (current
            names), for drawing it.
    """

    redeploy: list[Redeploy]
    unchanged: list[str]
    external: list[str]
    order: tuple[str, ...] = ()
    edges: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON-ready data: redeploy entries, unchanged and external tables."""
        return {
            "redeploy": [{"table": r.table, "new_name": r.new_name, "reason": r.reason,
                          "layer": r.layer} for r in self.redeploy],
            "unchanged": list(self.unchanged),
            "external": list(self.external),
            "edges": [list(edge) for edge in self.edges],
        }

    def render_text(self) -> str:
        """The plan as a person reads it: one line per table, parents before children."""
        by_table = {r.table: r for r in self.redeploy}
        new_names = {r.new_name for r in self.redeploy}
        order = self.order or (*self.external, *by_table, *self.unchanged)
        width = max([len(f"{r.table} -> {r.new_name}") for r in self.redeploy] + [0])
        lines = []
        for name in order:
            if name in by_table:
                item = by_table[name]
                detail = "changed" if item.reason == "changed" else "reads " + ", ".join(
                    p for p in item.parents if p in new_names)
                lines.append(f"REDEPLOY  {f'{name} -> {item.new_name}':{width}} ({detail})")
            elif name in self.external:
                lines.append(f"EXTERNAL  {name} (source topic, never redeployed)")
            else:
                lines.append(f"KEEP      {name} (running, untouched)")
        lines.append(f"{len(self.redeploy)} to redeploy, {len(self.unchanged)} kept, "
                     f"{len(self.external)} external")
        return "\n".join(lines)


def _check_changed(model: PipelineModel, changed: Iterable[str]) -> set[str]:
    names = set(changed)
    for name in sorted(names):
        table = model.table(name)
        if table.is_external:
            users = ", ".join(model.children(name)) or "no statement"
            raise PipelineError(
                f"{name!r} is an external table (no statement in the project writes it), "
                f"and externals are never redeployed; change the statement that reads it "
                f"instead ({users}), which then writes a new version of its own table")
    return names


def _new_names(model: PipelineModel, affected: list[str]) -> dict[str, str]:
    renames = {name: next_version(name) for name in affected}
    for old, new in renames.items():
        if new in model.tables:
            raise PipelineError(
                f"redeploying {old!r} needs the name {new!r}, but the project already has "
                f"a table {new!r}; finish the previous blue/green cycle first (remove the "
                f"statement of the version that was replaced)")
    return renames


def _redeploy(table: TableStatement, renames: dict[str, str], *, changed: set[str]) -> Redeploy:
    moved = sorted(p for p in table.parents if p in renames)
    reason = "changed" if table.name in changed else f"reads {', '.join(moved)} (redeployed)"
    dml_renames = {name: renames[name] for name in (table.name, *moved)}
    return Redeploy(
        table=table.name, new_name=renames[table.name], reason=reason, layer=table.layer,
        ddl=rename_tables(table.ddl, {table.name: renames[table.name]}),
        dml=rename_tables(table.dml, dml_renames),
        parents=tuple(renames.get(p, p) for p in table.parents))


def plan_change(model: PipelineModel, changed: Iterable[str]) -> ImpactPlan:
    """Plan a blue/green change: the changed tables and everything downstream move on.

    Args:
        model: The pipeline as it will be deployed (the new SQL).
        changed: Tables whose statements changed.

    Returns:
        The plan; its redeploy entries carry the renamed DDL and DML.

    Raises:
        PipelineError: A changed table is unknown or external, or a new name is taken.
    """
    names = _check_changed(model, changed)
    affected = set(names)
    for name in names:
        affected.update(model.descendants(name))
    order = model.topological_order()
    in_order = [name for name in order if name in affected]
    renames = _new_names(model, in_order)
    return ImpactPlan(
        redeploy=[_redeploy(model.tables[n], renames, changed=names) for n in in_order],
        unchanged=sorted(n for n in model.tables
                         if n not in affected and not model.tables[n].is_external),
        external=model.external, order=tuple(order),
        edges=tuple(dict.fromkeys((parent, name) for name in order if name in model.tables
                                  for parent in model.tables[name].parents)))
