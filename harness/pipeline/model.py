"""The pipeline as a DAG of tables, each written by one Flink statement."""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from harness.pipeline.errors import PipelineError

LAYERS = ("source", "intermediate", "fact", "dimension", "view", "external")


@dataclass(frozen=True)
class TableStatement:
    """One table of the pipeline and the statements that define and fill it.

    Attributes:
        name: Table name (the last part of a dotted name).
        layer: One of :data:`LAYERS`; ``external`` for tables no statement writes.
        product: Data product the table belongs to, ``""`` when unknown.
        ddl: The CREATE TABLE text, ``""`` when there is none.
        dml: The INSERT text that fills the table, ``""`` for external tables.
        parents: Tables the DML reads (FROM, JOIN), without CTE names and itself.
        ddl_path: File the DDL came from.
        dml_path: File the DML came from.
    """

    name: str
    layer: str
    product: str = ""
    ddl: str = ""
    dml: str = ""
    parents: tuple[str, ...] = ()
    ddl_path: Path | None = None
    dml_path: Path | None = None

    @property
    def is_external(self) -> bool:
        """True when no statement of the project writes this table."""
        return self.layer == "external"


def _merge(first: TableStatement, second: TableStatement) -> TableStatement:
    """Combine a table's DDL and DML found in different places; refuse two of either."""
    for kind in ("dml", "ddl"):
        if getattr(first, kind) and getattr(second, kind):
            paths = [str(getattr(t, f"{kind}_path") or "<unknown file>") for t in (first, second)]
            raise PipelineError(
                f"two {kind.upper()} statements for table {first.name!r}: {paths[0]} and "
                f"{paths[1]}; keep one of them (or rename the target of the other)")
    with_dml = first if first.dml else second
    other = second if with_dml is first else first
    return replace(with_dml, ddl=with_dml.ddl or other.ddl,
                   ddl_path=with_dml.ddl_path or other.ddl_path,
                   product=with_dml.product or other.product)


class PipelineModel:
    """All tables of a project, the DAG their statements form, and what loading noticed.

    Tables read by some DML but written by none (raw CDC topics) are added as
    ``external`` tables; so is any table with a DDL but no DML. Construction fails on a
    cycle or on two statements writing one table.

    Attributes:
        tables: Table name to its statements.
        warnings: Things a person should look at that did not stop loading.
    """

    def __init__(self, tables: Iterable[TableStatement], *,
                 warnings: Iterable[str] = ()) -> None:
        self.warnings: list[str] = list(warnings)
        merged: dict[str, TableStatement] = {}
        for table in tables:
            known = merged.get(table.name)
            merged[table.name] = table if known is None else _merge(known, table)
        for table in list(merged.values()):
            if not table.dml and table.layer != "external":
                merged[table.name] = replace(table, layer="external", parents=())
            for parent in table.parents:
                merged.setdefault(parent, TableStatement(parent, "external"))
        self.tables: dict[str, TableStatement] = dict(sorted(merged.items()))
        self._children: dict[str, list[str]] = {name: [] for name in self.tables}
        for table in self.tables.values():
            for parent in table.parents:
                self._children[parent].append(table.name)
        self._order = self._sort()

    @property
    def external(self) -> list[str]:
        """Tables no statement writes, sorted: never redeployed."""
        return [name for name, table in self.tables.items() if table.is_external]

    def table(self, name: str) -> TableStatement:
        """The table called ``name``; an unknown name raises with close matches."""
        if name not in self.tables:
            names = list(self.tables)
            close = [n for n in names if name.lower() in n.lower()][:3] or \
                difflib.get_close_matches(name, names, n=3, cutoff=0.5)
            hint = (f"did you mean {', '.join(close)}?" if close
                    else f"known tables: {', '.join(names[:12])}{' ...' * (len(names) > 12)}.")
            raise PipelineError(
                f"no table {name!r} in the pipeline; {hint} Use a table name from the "
                f"project's DDL/DML files (CREATE TABLE or INSERT INTO targets).")
        return self.tables[name]

    def children(self, name: str) -> list[str]:
        """Tables whose DML reads ``name``, sorted."""
        self.table(name)
        return sorted(self._children[name])

    def descendants(self, name: str) -> list[str]:
        """Every table downstream of ``name`` (not itself), in topological order."""
        seen: set[str] = set()
        todo = self.children(name)
        while todo:
            child = todo.pop()
            if child not in seen:
                seen.add(child)
                todo.extend(self._children[child])
        return [table for table in self._order if table in seen]

    def topological_order(self) -> list[str]:
        """All tables, parents before children.

        Tables are ordered by depth (the longest chain of parents above them), then by
        name, so the order reads level by level and never depends on file order.
        """
        return list(self._order)

    def _sort(self) -> list[str]:
        waiting = {name: len(set(t.parents)) for name, t in self.tables.items()}
        ready = [name for name, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            name = heapq.heappop(ready)
            order.append(name)
            for child in set(self._children[name]):
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, child)
        if len(order) < len(self.tables):
            self._raise_cycle({name for name, count in waiting.items() if count > 0})
        depth: dict[str, int] = {}
        for name in order:
            depth[name] = 1 + max((depth[p] for p in self.tables[name].parents), default=-1)
        return sorted(order, key=lambda name: (depth[name], name))

    def _raise_cycle(self, stuck: set[str]) -> None:
        """Walk parents among the tables left over until a name repeats."""
        path = [min(stuck)]
        while True:
            parent = min(p for p in self.tables[path[-1]].parents if p in stuck)
            if parent in path:
                cycle = [*path[path.index(parent):], parent][::-1]
                files = sorted({str(self.tables[n].dml_path) for n in cycle
                                if self.tables[n].dml_path})
                raise PipelineError(
                    f"the pipeline has a cycle: {' -> '.join(cycle)} (DML files: "
                    f"{', '.join(files) or 'unknown'}); a statement must not read, even "
                    f"indirectly, the table it writes: remove one of those reads")
            path.append(parent)
