"""A small, dependency-free line chart renderer producing inline SVG.

Charts scale to their container (``viewBox`` plus ``width="100%"``) and carry everything
they need inline, so a report stays one self-contained file. Y values of ``None`` are gaps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal

Point = tuple[float, float | None]
LegendShape = Literal["line", "dashed", "dot"]
_Scale = Callable[[float], float]
_Box = tuple[float, float, float, float]  # x0, x1, y0, y1 in SVG units

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
DASH = "6 4"
_CHAR_W = 6.6  # rough width of one 12 px character, for laying out labels
_MAX_LABEL_ROWS = 4


@dataclass(frozen=True)
class Series:
    """One line: ``step`` draws it as a staircase, ``dots`` marks every point."""

    label: str
    points: Sequence[Point]
    color: str
    dashed: bool = False
    step: bool = False
    dots: bool = False


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line (a threshold), labelled at its right end."""

    y: float
    label: str
    color: str
    dashed: bool = True


@dataclass(frozen=True)
class VLine:
    """A vertical annotation (something happened at ``x``), labelled at the top."""

    x: float
    label: str
    color: str
    dashed: bool = False


@dataclass(frozen=True)
class Marker:
    """A dot at one point; ``title`` becomes its hover tooltip."""

    x: float
    y: float
    color: str
    title: str = ""


@dataclass(frozen=True)
class LegendEntry:
    label: str
    color: str
    shape: LegendShape = "line"


def nice_step(span: float, max_ticks: int = 6) -> float:
    """The smallest 1-2-5 step that splits ``span`` into at most ``max_ticks`` intervals."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / max(1, max_ticks)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 5.0, 10.0):
        if multiple * magnitude >= raw * (1 - 1e-9):
            return multiple * magnitude
    return 10.0 * magnitude  # pragma: no cover - the loop always returns


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step))) if step < 1 else 0


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Ticks on a 1-2-5 grid covering ``[lo, hi]``; the first and last are the axis ends.

    A degenerate range (``lo == hi``) is widened so that a single value still gets an axis.
    """
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1
        lo, hi = (lo - pad, hi + pad) if pad else (0.0, 1.0)
    step = nice_step(hi - lo, max_ticks)
    start = math.floor(lo / step + 1e-9) * step
    end = math.ceil(hi / step - 1e-9) * step
    digits = _decimals(step) + 1
    count = round((end - start) / step)
    return [round(start + i * step, digits) + 0.0 for i in range(count + 1)]


def format_tick(value: float, step: float) -> str:
    """``value`` with as many decimals as ``step`` needs and thousands separators."""
    text = f"{value:,.{_decimals(step)}f}"
    return "0" if text.strip("-0.,") == "" else text


def _f(value: float) -> str:
    return f"{value:.1f}"


def _segments(points: Sequence[Point], step: bool) -> list[list[tuple[float, float]]]:
    """Split at ``None`` gaps; for step lines hold each value until the next point."""
    segments: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for x, y in sorted(points, key=lambda p: p[0]):
        if y is None:
            if current:
                segments.append(current)
            current = []
            continue
        if step and current and current[-1][1] != y:
            current.append((x, current[-1][1]))
        current.append((x, y))
    if current:
        segments.append(current)
    return segments


def _overlaps(a: _Box, b: _Box) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 12,
          fill: str = "#333", extra: str = "") -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}"{extra}>{escape(content)}</text>')


_HALO = ' paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"'


@dataclass
class LineChart:
    """A line chart with thresholds, annotations and markers; ``render()`` gives the SVG.

    ``include_x``/``include_y`` are values the axes must cover (e.g. 0 or 100 %);
    ``headroom`` is the share of the y range added on top when there are vertical lines,
    to keep their labels off the data; ``plot_id`` becomes the ``data-plot`` attribute.
    """

    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    hlines: list[HLine] = field(default_factory=list)
    vlines: list[VLine] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)
    plot_id: str = ""
    include_x: Sequence[float] = ()
    include_y: Sequence[float] = ()
    headroom: float = 0.15
    width: int = 960
    height: int = 320

    def has_data(self) -> bool:
        """Whether any series has at least one real (non-gap) value."""
        return any(y is not None for s in self.series for _, y in s.points)

    def _domain(self) -> tuple[list[float], list[float]]:
        xs = [x for s in self.series for x, y in s.points if y is not None]
        ys = [y for s in self.series for _, y in s.points if y is not None]
        xs += [v.x for v in self.vlines] + [m.x for m in self.markers] + list(self.include_x)
        ys += [h.y for h in self.hlines] + [m.y for m in self.markers] + list(self.include_y)
        xs = [x for x in xs if math.isfinite(x)] or [0.0, 1.0]
        ys = [y for y in ys if math.isfinite(y)] or [0.0, 1.0]
        y_lo, y_hi = min(ys), max(ys)
        if self.vlines:
            y_hi += (y_hi - y_lo) * self.headroom
        return nice_ticks(min(xs), max(xs), 8), nice_ticks(y_lo, y_hi, 5)

    def _legend_entries(self) -> list[LegendEntry]:
        entries = [LegendEntry(s.label, s.color, "dashed" if s.dashed else "line")
                   for s in self.series]
        return entries + list(self.legend)

    def _layout_legend(self, left: float, right: float, top: float) -> tuple[list[str], float]:
        """Legend items in rows that wrap at ``right``; returns them and the rows' bottom."""
        parts: list[str] = []
        x, y = left, top
        for entry in self._legend_entries():
            item_w = 26 + len(entry.label) * _CHAR_W + 18
            if x > left and x + item_w > right:
                x, y = left, y + 18
            if entry.shape == "dot":
                swatch = (f'<circle cx="{_f(x + 9)}" cy="{_f(y - 4)}" r="5" '
                          f'fill="{escape(entry.color)}" stroke="#fff"/>')
            else:
                dash = f' stroke-dasharray="{DASH}"' if entry.shape == "dashed" else ""
                swatch = (f'<line x1="{_f(x)}" y1="{_f(y - 4)}" x2="{_f(x + 20)}" '
                          f'y2="{_f(y - 4)}" stroke="{escape(entry.color)}" '
                          f'stroke-width="2.5"{dash}/>')
            parts.append(swatch + _text(x + 26, y, entry.label))
            x += item_w
        return parts, y

    def render(self) -> str:
        """The chart as one ``<svg class="plot">`` element."""
        w, h = self.width, self.height
        left, right = 72.0, w - 24.0
        legend, legend_bottom = self._layout_legend(left, right, 44.0)
        top, bottom = legend_bottom + 16.0, h - 48.0
        xt, yt = self._domain()
        x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]

        def sx(x: float) -> float:
            return left + (x - x0) / (x1 - x0) * (right - left)

        def sy(y: float) -> float:
            return bottom - (y - y0) / (y1 - y0) * (bottom - top)

        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" '
            f'data-plot="{escape(self.plot_id)}" viewBox="0 0 {w} {h}" width="100%" '
            f'preserveAspectRatio="xMidYMid meet" role="img" font-family="{escape(FONT)}" '
            f'font-size="12">',
            f"<title>{escape(self.title)}</title>",
            _text(left, 22, self.title, size=15, fill="#1d2430", extra=' font-weight="600"'),
            '<g class="legend">', *legend, "</g>",
        ]
        out += self._axes(xt, yt, sx, sy, left, right, top, bottom)
        thresholds, label_boxes = self._hlines(sy, left, right, top, bottom)
        out += thresholds
        out += self._vlines(sx, left, right, top, bottom, label_boxes)
        out += self._series(sx, sy)
        out.append('<g class="markers">')
        for m in self.markers:
            title = f"<title>{escape(m.title)}</title>" if m.title else ""
            out.append(f'<circle cx="{_f(sx(m.x))}" cy="{_f(sy(m.y))}" r="5.5" '
                       f'fill="{escape(m.color)}" stroke="#fff" stroke-width="1.5">'
                       f"{title}</circle>")
        out += ["</g>", "</svg>"]
        return "\n".join(out)

    def _axes(self, xt: list[float], yt: list[float], sx: _Scale, sy: _Scale,
              left: float, right: float, top: float, bottom: float) -> list[str]:
        xstep, ystep = xt[1] - xt[0], yt[1] - yt[0]
        out = ['<g class="grid" stroke="#e6e8ec" stroke-width="1">']
        out += [f'<line x1="{_f(left)}" y1="{_f(sy(y))}" x2="{_f(right)}" y2="{_f(sy(y))}"/>'
                for y in yt]
        out += [f'<line x1="{_f(sx(x))}" y1="{_f(top)}" x2="{_f(sx(x))}" y2="{_f(bottom)}"/>'
                for x in xt]
        out.append("</g>")
        out.append(f'<g class="axes"><path d="M{_f(left)},{_f(top)} V{_f(bottom)} '
                   f'H{_f(right)}" fill="none" stroke="#8a929c" stroke-width="1"/>')
        out += [_text(sx(x), bottom + 16, format_tick(x, xstep), anchor="middle", fill="#555")
                for x in xt]
        out += [_text(left - 6, sy(y) + 4, format_tick(y, ystep), anchor="end", fill="#555")
                for y in yt]
        out.append(_text((left + right) / 2, bottom + 36, self.x_label, anchor="middle"))
        mid = (top + bottom) / 2
        out.append(_text(18, mid, self.y_label, anchor="middle",
                         extra=f' transform="rotate(-90 18 {_f(mid)})"'))
        out.append("</g>")
        return out

    def _hlines(self, sy: _Scale, left: float, right: float, top: float,
                bottom: float) -> tuple[list[str], list[_Box]]:
        """Threshold lines, and the boxes their labels take (for ``_vlines`` to avoid)."""
        out, boxes = ['<g class="thresholds">'], []
        for line in self.hlines:
            y = sy(line.y)
            dash = f' stroke-dasharray="{DASH}"' if line.dashed else ""
            out.append(f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(right)}" y2="{_f(y)}" '
                       f'stroke="{escape(line.color)}" stroke-width="1.5"{dash}/>')
            label_y = y - 5 if y - 5 > top + 10 else y + 14
            boxes.append((right - 4 - len(line.label) * _CHAR_W, right, label_y - 11,
                          label_y + 3))
            out.append(_text(right - 4, label_y, line.label, anchor="end",
                             fill=line.color, extra=_HALO))
        out.append("</g>")
        return out, boxes

    def _vlines(self, sx: _Scale, left: float, right: float, top: float,
                bottom: float, taken: list[_Box]) -> list[str]:
        """Vertical lines whose labels are stacked in rows so that they overlap neither
        each other nor the ``taken`` boxes."""
        out = ['<g class="annotations">']
        taken = list(taken)
        for line in sorted(self.vlines, key=lambda v: v.x):
            x = sx(line.x)
            dash = ' stroke-dasharray="3 3"' if line.dashed else ""
            out.append(f'<line x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(bottom)}" '
                       f'stroke="{escape(line.color)}" stroke-width="1.5"{dash}/>')
            text_w = len(line.label) * _CHAR_W
            anchor, start = ("start", x + 4) if x + 4 + text_w <= right else ("end", x - 4)
            x0, x1 = (start, start + text_w) if anchor == "start" else (start - text_w, start)
            rows = [top + 12 + row * 14 for row in range(_MAX_LABEL_ROWS)]
            y = next((r for r in rows if not any(_overlaps((x0, x1, r - 11, r + 3), box)
                                                  for box in taken)), rows[-1])
            taken.append((x0, x1, y - 11, y + 3))
            out.append(_text(start, y, line.label, anchor=anchor, fill=line.color,
                             extra=_HALO))
        out.append("</g>")
        return out

    def _series(self, sx: _Scale, sy: _Scale) -> list[str]:
        out = ['<g class="series">']
        for s in self.series:
            color = escape(s.color)
            dash = f' stroke-dasharray="{DASH}"' if s.dashed else ""
            for segment in _segments(s.points, s.step):
                points = " ".join(f"{_f(sx(x))},{_f(sy(y))}" for x, y in segment)
                out.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                           f'stroke-width="2.2" stroke-linejoin="round" '
                           f'stroke-linecap="round"{dash}><title>{escape(s.label)}</title>'
                           "</polyline>")
                if s.dots or len(segment) == 1:
                    out += [f'<circle cx="{_f(sx(x))}" cy="{_f(sy(y))}" r="2.8" '
                            f'fill="{color}"/>' for x, y in segment]
        out.append("</g>")
        return out
