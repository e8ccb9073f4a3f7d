"""The blue/green plan drawn in the report: the pipeline as a left-to-right DAG, each
table boxed in the colour of what the change does to it (changed, redeployed, green,
external), as inline SVG so the report stays one file."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from harness.pipeline.plan_graph import KINDS, colors, edges, levels, nodes
from harness.report.svg import FONT

_CHAR_W = 6.6  # one 12 px character
_BOX_H, _ROW_GAP, _COL_GAP, _PAD = 26, 12, 48, 10
_LEGEND_H = 56  # the legend, and room for long edges arching over the first row


def plan_svg(plan: Mapping[str, Any]) -> str:
    """The plan (its JSON form, as the ``bluegreen.plan`` event holds it) as an SVG
    figure; '' when it has no tables."""
    found = nodes(plan)
    if not found:
        return ""
    depth = levels(plan)
    columns: dict[int, list[str]] = {}
    for name in sorted(found):
        columns.setdefault(depth.get(name, 0), []).append(name)
    widths = {col: max(len(found[n]["label"]) for n in names) * _CHAR_W + 2 * _PAD
              for col, names in columns.items()}
    x_of: dict[int, float] = {}
    x = float(_PAD)
    for col in sorted(columns):
        x_of[col] = x
        x += widths[col] + _COL_GAP
    rows = max(len(names) for names in columns.values())
    height = _LEGEND_H + rows * (_BOX_H + _ROW_GAP) + _PAD
    width = max(x - _COL_GAP + _PAD, 4 * 110.0)
    box: dict[str, tuple[float, float, float]] = {}  # name -> x, y, width
    parts: list[str] = []
    for col, names in columns.items():
        for row, name in enumerate(names):
            y = _LEGEND_H + row * (_BOX_H + _ROW_GAP)
            box[name] = (x_of[col], y, widths[col])
    for parent, child in edges(plan):
        if parent in box and child in box:
            parts.append(_edge(box[parent], box[child],
                               long=depth.get(child, 0) - depth.get(parent, 0) > 1))
    for name, (bx, by, bw) in box.items():
        kind = found[name]["kind"]
        fill, stroke = colors(kind)
        parts.append(f'<g><title>{escape(name)}: {kind}</title>'
                     f'<rect x="{bx:.1f}" y="{by:.1f}" width="{bw:.1f}" height="{_BOX_H}" '
                     f'rx="5" fill="{fill}" stroke="{stroke}"/>'
                     f'<text x="{bx + _PAD:.1f}" y="{by + _BOX_H / 2 + 4:.1f}">'
                     f'{escape(found[name]["label"])}</text></g>')
    for i, kind in enumerate(KINDS):
        fill, stroke = colors(kind)
        lx = _PAD + i * 110
        parts.append(f'<rect x="{lx}" y="6" width="14" height="14" rx="3" fill="{fill}" '
                     f'stroke="{stroke}"/><text x="{lx + 20}" y="17">{kind}</text>')
    return (f'<figure class="plan"><svg role="img" aria-label="blue/green plan" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
            f'style="max-width:{width:.0f}px" font-family="{FONT}" font-size="12">'
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
            '<path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>'
            + "".join(parts) + "</svg></figure>")


def _edge(parent: tuple[float, float, float], child: tuple[float, float, float], *,
          long: bool) -> str:
    """A curve from the right of ``parent``'s box to the left of ``child``'s. An edge
    that skips columns arches over the boxes between, dashed, so it is never read as
    an edge into a box it passes."""
    px, py, pw = parent
    cx, cy, _ = child
    x0, y0, x1, y1 = px + pw, py + _BOX_H / 2, cx, cy + _BOX_H / 2
    bend = (x1 - x0) / 2
    if long:
        top = min(y0, y1) - 1.6 * _BOX_H
        curve, dash = f"C{x0 + bend:.1f},{top:.1f} {x1 - bend:.1f},{top:.1f}", \
            ' stroke-dasharray="4 3"'
    else:
        curve, dash = f"C{x0 + bend:.1f},{y0:.1f} {x1 - bend:.1f},{y1:.1f}", ""
    return (f'<path d="M{x0:.1f},{y0:.1f} {curve} {x1:.1f},{y1:.1f}" fill="none" '
            f'stroke="#888"{dash} marker-end="url(#arrow)"/>')


def plan_from_timeline(timeline: object) -> Mapping[str, Any] | None:
    """The last ``bluegreen.plan`` event of a scenario's timeline, if any."""
    if not isinstance(timeline, list):
        return None
    plans = [e for e in timeline if isinstance(e, Mapping) and e.get("kind") == "bluegreen.plan"]
    return plans[-1] if plans else None
