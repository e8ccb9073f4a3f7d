"""A plan as a picture: the running pipeline as a DAG whose nodes say what the change
does to them (changed, redeployed as a descendant, green, external), as Mermaid or
Graphviz DOT text, and laid out in levels for the HTML report's drawing.

People read an execution plan faster as a graph than as a list; the text formats paste
into a pull request (Mermaid renders on GitHub and GitLab) or go through ``dot -Tsvg``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

KINDS = ("changed", "redeployed", "green", "external")
_FILL = {"changed": "#f8d7da", "redeployed": "#fff3cd", "green": "#d1e7dd",
         "external": "#e9ecef"}
_STROKE = {"changed": "#b02a37", "redeployed": "#997404", "green": "#146c43",
           "external": "#6c757d"}


def nodes(plan: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Every table of ``plan`` (its JSON form) by name: ``kind`` and ``label`` (a
    redeployed table is labelled with its new name)."""
    found: dict[str, dict[str, str]] = {}
    for name in plan.get("external", []):
        found[name] = {"kind": "external", "label": name}
    for name in plan.get("unchanged", []):
        found[name] = {"kind": "green", "label": name}
    for entry in plan.get("redeploy", []):
        kind = "changed" if entry.get("reason") == "changed" else "redeployed"
        found[entry["table"]] = {"kind": kind,
                                 "label": f"{entry['table']} → {entry['new_name']}"}
    for parent, child in edges(plan):
        for name in (parent, child):
            found.setdefault(name, {"kind": "green", "label": name})
    return found


def edges(plan: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(parent, child)`` pairs of the plan's JSON form."""
    return [(str(edge[0]), str(edge[1])) for edge in plan.get("edges", []) if len(edge) == 2]


def levels(plan: Mapping[str, Any]) -> dict[str, int]:
    """Each table's depth: 0 for tables that read none, else one more than its deepest
    parent (the columns of a left-to-right drawing)."""
    parents: dict[str, list[str]] = {name: [] for name in nodes(plan)}
    for parent, child in edges(plan):
        parents[child].append(parent)
    depth: dict[str, int] = {}

    def visit(name: str, seen: tuple[str, ...]) -> int:
        if name not in depth:
            if name in seen:  # a cycle is refused when the pipeline loads; never loop
                return 0
            depth[name] = 1 + max((visit(p, (*seen, name)) for p in parents[name]),
                                  default=-1)
        return depth[name]

    for name in parents:
        visit(name, ())
    return depth


def _node_id(name: str) -> str:
    return "n_" + re.sub(r"\W", "_", name)


def to_mermaid(plan: Mapping[str, Any]) -> str:
    """The plan as a Mermaid flowchart, parents left of their children."""
    lines = ["flowchart LR"]
    for name, node in nodes(plan).items():
        label = node["label"].replace('"', "'")
        lines.append(f'  {_node_id(name)}["{label}"]:::{node["kind"]}')
    lines += [f"  {_node_id(parent)} --> {_node_id(child)}" for parent, child in edges(plan)]
    lines += [f"  classDef {kind} fill:{_FILL[kind]},stroke:{_STROKE[kind]}" for kind in KINDS]
    return "\n".join(lines)


def _dot_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(plan: Mapping[str, Any]) -> str:
    """The plan as a Graphviz digraph (``dot -Tsvg``), parents left of their children."""
    lines = ["digraph plan {", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    for name, node in nodes(plan).items():
        lines.append(f'  {_dot_quoted(name)} [label={_dot_quoted(node["label"])}, '
                     f'fillcolor="{_FILL[node["kind"]]}", color="{_STROKE[node["kind"]]}", '
                     f'tooltip="{node["kind"]}"];')
    lines += [f"  {_dot_quoted(parent)} -> {_dot_quoted(child)};"
              for parent, child in edges(plan)]
    lines.append("}")
    return "\n".join(lines)


def colors(kind: str) -> tuple[str, str]:
    """Fill and stroke of a node of ``kind`` (the report uses the same as the texts)."""
    return _FILL[kind], _STROKE[kind]
