"""A scenario's plots in the report: the canary's weight, error rate and latency with
the analysis verdicts and faults marked, and a blue/green run's records per table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from harness.report import series as sr
from harness.report.svg import HLine, LegendEntry, LineChart, Marker, Series, VLine

STABLE, CANARY = "#1f77b4", "#ff7f0e"
VERDICT_COLORS = {"pass": "#2ca02c", "marginal": "#f0a30a", "fail": "#d62728",
                  "nodata": "#9e9e9e"}
ANNOTATION_COLORS = {"fault_on": "#8e44ad", "faults_off": "#7f8c8d", "rollback": "#d62728",
                     "rollback_skipped": "#b7791f", "promoted": "#2ca02c",
                     "aborted": "#8b0000", "halted": "#8b0000"}
TABLE_COLORS = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f")
X_LABEL = "seconds since scenario start"


def _vlines(annotations: Sequence[sr.Annotation]) -> list[VLine]:
    return [VLine(a.x, a.label, ANNOTATION_COLORS.get(a.kind, "#555"),
                  dashed=a.kind in ("faults_off", "rollback_skipped")) for a in annotations]


def _verdict_legend(analyses: Sequence[sr.Analysis]) -> list[LegendEntry]:
    present = {a.verdict for a in analyses}
    ordered = [v for v in sr.VERDICTS if v in present] + sorted(present - set(sr.VERDICTS))
    return [LegendEntry(f"verdict {v}", VERDICT_COLORS.get(v, "#555"), "dot") for v in ordered]


def _verdict_title(a: sr.Analysis) -> str:
    weight = f"{a.weight:g} %" if a.weight is not None else "? %"
    reasons = "; ".join(a.reasons)
    return f"t={a.x:.1f} s, weight {weight}: {a.verdict}" + (f" ({reasons})" if reasons else "")


def _threshold(policy: Mapping[str, Any], key: str) -> float | None:
    return sr.number(policy.get(key))


def _x_span(timeline: object, t0: float) -> tuple[float, ...]:
    """0 and the last event, so that every plot of a scenario shares one x axis."""
    last = sr.end_x(timeline, t0)
    return (0.0,) if last is None else (0.0, last)


def canary_charts(timeline: object, t0: float) -> tuple[list[LineChart], list[str]]:
    """The canary plots that have data, plus notes about the ones that have none."""
    charts: list[LineChart] = []
    notes: list[str] = []
    span = _x_span(timeline, t0)
    policy = sr.canary_policy(timeline)
    analyses = sr.analyses(timeline, t0)
    vlines = _vlines(sr.canary_annotations(timeline, t0))
    legend = _verdict_legend(analyses)

    steps = sr.canary_weights(timeline, t0)
    weight_markers = []
    for a in analyses:
        y = a.weight if a.weight is not None else sr.weight_at(steps, a.x)
        if y is not None:
            weight_markers.append(Marker(a.x, y, VERDICT_COLORS.get(a.verdict, "#555"),
                                         _verdict_title(a)))
    weight = LineChart("Canary traffic weight", X_LABEL, "canary traffic %",
                       series=[Series("canary weight %", steps, CANARY, step=True)],
                       vlines=vlines, markers=weight_markers, legend=legend,
                       plot_id="canary-weight", include_x=span, include_y=(0, 100),
                       headroom=0.0)

    rates = sr.error_rates(timeline, t0)
    hlines = []
    if (low := _threshold(policy, "error_rate_pass_pct")) is not None:
        hlines.append(HLine(low, f"promote < {low:g} %", VERDICT_COLORS["pass"]))
    if (high := _threshold(policy, "error_rate_fail_pct")) is not None:
        hlines.append(HLine(high, f"rollback > {high:g} %", VERDICT_COLORS["fail"]))
    rate_markers = [Marker(a.x, a.value("canary_error_rate_pct") or 0.0,
                           VERDICT_COLORS.get(a.verdict, "#555"), _verdict_title(a))
                    for a in analyses]
    errors = LineChart("Error rate: stable vs canary", X_LABEL, "error rate %",
                       series=[Series("stable error %", rates["stable"], STABLE, dots=True),
                               Series("canary error %", rates["canary"], CANARY, dots=True)],
                       hlines=hlines, vlines=vlines, markers=rate_markers, legend=legend,
                       plot_id="canary-error-rate", include_x=span, include_y=(0,))

    lat = sr.latencies(timeline, t0)
    limit = _threshold(policy, "latency_p95_ms_max")
    latency = LineChart(
        "Latency: stable vs canary", X_LABEL, "latency ms",
        series=[Series("stable p95", lat["stable p95"], STABLE, dots=True),
                Series("stable p99", lat["stable p99"], STABLE, dashed=True, dots=True),
                Series("canary p95", lat["canary p95"], CANARY, dots=True),
                Series("canary p99", lat["canary p99"], CANARY, dashed=True, dots=True)],
        hlines=[HLine(limit, f"p95 limit {limit:g} ms", VERDICT_COLORS["fail"])]
        if limit is not None else [],
        vlines=vlines, plot_id="canary-latency", include_x=span, include_y=(0,))

    for chart, missing in ((weight, "no canary weight recorded"),
                           (errors, "no canary error rates recorded"),
                           (latency, "no canary latencies recorded")):
        if chart.has_data():
            charts.append(chart)
        else:
            notes.append(missing)
    return charts, notes


def bluegreen_charts(timeline: object, t0: float) -> list[LineChart]:
    """Record counts per table (v1 solid, v2 dashed in the same color) and lag per pair."""
    counts = sr.record_counts(timeline, t0)
    if not counts:
        return []
    pairs = sr.bluegreen_pairs(timeline)
    span = _x_span(timeline, t0)
    colors: dict[str, str] = {}
    styles: dict[str, bool] = {}
    for index, (v1, v2) in enumerate(pairs):
        color = TABLE_COLORS[index % len(TABLE_COLORS)]
        colors.setdefault(v1, color)
        colors.setdefault(v2, color)
        styles.setdefault(v1, False)
        styles.setdefault(v2, True)
    for table in counts:
        colors.setdefault(table, TABLE_COLORS[len(set(colors.values())) % len(TABLE_COLORS)])
    faults = _vlines(sr.fault_annotations(timeline, t0))
    records = LineChart(
        "Records per table (v1 solid, v2 dashed)", X_LABEL, "records",
        series=[Series(table, points, colors[table], dashed=styles.get(table, False),
                       dots=len(points) <= 30) for table, points in counts.items()],
        vlines=faults, plot_id="bluegreen-records", include_x=span, include_y=(0,))
    lag_series = [Series(f"{v2} behind {v1}", points, colors.get(v1, TABLE_COLORS[0]),
                         dots=len(points) <= 30)
                  for (v1, v2), points in sr.lags(timeline, t0).items()]
    lag = LineChart("Lag of v2 behind v1", X_LABEL, "records behind (v1 - v2)",
                    series=lag_series, vlines=faults, plot_id="bluegreen-lag",
                    include_x=span, include_y=(0,))
    return [chart for chart in (records, lag) if chart.has_data()]


def plots_html(timeline: object) -> str:
    """A scenario's plots (canary weights, errors and latency; records per table), as
    inline SVG charts with their notes; '' when its timeline has nothing to plot."""
    t0 = sr.origin(timeline)
    if t0 is None:
        return ""
    charts: list[LineChart] = []
    notes: list[str] = []
    if sr.has_canary(timeline):
        charts, notes = canary_charts(timeline, t0)
    charts += bluegreen_charts(timeline, t0)
    if not charts and not notes:
        return ""
    parts = ["<h3>Plots</h3>", *(chart.render() for chart in charts)]
    parts += [f'<p class="note">{escape(note, quote=True)}</p>' for note in notes]
    return "\n".join(parts)
