"""A self-contained, single-file HTML report of one run, with inline SVG plots.

The page needs no network: CSS is inline, plots are inline SVG, and the only script is a
render self-check that records on ``<body>`` how many plots actually drew something
(``data-plots-rendered`` / ``data-plots-total``), so a headless browser can verify them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness.atomic import write_text_atomic
from harness.report import series as sr
from harness.report.assets import CSS, SELF_CHECK
from harness.report.charts import plots_html
from harness.report.dashboard import dashboard_html
from harness.report.plan_svg import plan_from_timeline, plan_svg

OUTCOMES = ("passed", "failed", "error", "skipped")
DETAILS_MAX = 300
EVIDENCE_ROWS_MAX = 100
EVIDENCE_DEPTH_MAX = 4

# --- small formatting helpers --------------------------------------------------------


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _iso(ts: object) -> str:
    value = sr.number(ts)
    if value is None:
        return "unknown"
    try:
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return "unknown"


def _duration(seconds: object) -> str:
    value = sr.number(seconds)
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest:02d} s"


def _compact(value: object, limit: int = DETAILS_MAX) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def slug(nodeid: str) -> str:
    """An HTML id for a scenario: ``s-`` plus the lowercased nodeid, non-alphanumerics
    collapsed to ``-`` (e.g. ``s-scenarios-test-canary-py-test-x``)."""
    return "s-" + (re.sub(r"[^a-z0-9]+", "-", nodeid.lower()).strip("-")[:96] or "scenario")


def _unique_slugs(nodeids: Sequence[str]) -> list[str]:
    seen: Counter[str] = Counter()
    result = []
    for nodeid in nodeids:
        base = slug(nodeid)
        seen[base] += 1
        result.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return result


def _bundle_href(bundle: str) -> str:
    """A relative link to the bundle directory; quoting also defuses ``javascript:``."""
    return quote(bundle.rstrip("/"), safe="/-_.~") + "/"


# --- evidence ---------------------------------------------------------------------------


def _scalar(value: object) -> str:
    if value is None:
        return '<span class="muted">null</span>'
    if isinstance(value, bool):
        return "true" if value else "false"
    return _e(value)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _more_row(extra: int, columns: int) -> str:
    return f'<tr><td colspan="{columns}" class="muted">… {extra} more</td></tr>'


def evidence_html(value: object, depth: int = 0) -> str:
    """Evidence as nested tables: dicts as key/value rows, lists as one row per item
    (lists of lists as columns, lists of dicts with their keys as headers)."""
    if _is_scalar(value):
        return _scalar(value)
    if depth >= EVIDENCE_DEPTH_MAX:
        return _e(_compact(value))
    if isinstance(value, Mapping):
        if not value:
            return '<span class="muted">{}</span>'
        pairs = "".join(f"<tr><th>{_e(k)}</th><td>{evidence_html(v, depth + 1)}</td></tr>"
                        for k, v in value.items())
        return f'<table class="evidence">{pairs}</table>'
    if not isinstance(value, list | tuple):
        return _e(value)
    if not value:
        return '<span class="muted">[]</span>'
    shown, extra = value[:EVIDENCE_ROWS_MAX], max(0, len(value) - EVIDENCE_ROWS_MAX)
    if all(isinstance(item, Mapping) for item in shown):
        keys = list(dict.fromkeys(k for item in shown for k in item))
        head = "".join(f"<th>{_e(k)}</th>" for k in keys)
        body = "".join("<tr>" + "".join(f"<td>{evidence_html(item.get(k), depth + 1)}</td>"
                                        for k in keys) + "</tr>" for item in shown)
        more = _more_row(extra, len(keys)) if extra else ""
        return f'<table class="evidence"><tr>{head}</tr>{body}{more}</table>'
    rows = []
    for item in shown:
        cells = item if isinstance(item, list | tuple) else [item]
        rows.append("<tr>" + "".join(f"<td>{evidence_html(c, depth + 1)}</td>" for c in cells)
                    + "</tr>")
    width = max(len(i) if isinstance(i, list | tuple) else 1 for i in shown)
    more = _more_row(extra, width) if extra else ""
    return f'<table class="evidence">{"".join(rows)}{more}</table>'


# --- checks ---------------------------------------------------------------------------


def _checks(scenario: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The scenario's checks, or else the ``check`` events of its timeline."""
    checks = _dicts(scenario.get("checks"))
    if checks:
        return checks
    return [e for e in sr.events(scenario.get("timeline")) if e["kind"] == "check"]


def _checks_table(checks: Sequence[Mapping[str, Any]]) -> str:
    if not checks:
        return '<p class="note">No checks recorded.</p>'
    rows = []
    for check in checks:
        ok = check.get("ok") is True
        evidence = check.get("evidence")
        summary = _e(check.get("summary") or "")
        if evidence not in (None, {}, []):
            table = evidence_html(evidence)
            summary += (table if not ok else
                        f"<details><summary>evidence</summary>{table}</details>")
        status = ('<span class="badge ok">ok</span>' if ok
                  else '<span class="badge bad">FAILED</span>')
        css = "check-ok" if ok else "check-failed"
        rows.append(f'<tr class="{css}"><td>{status}</td><td>{_e(check.get("name", "?"))}'
                    f"</td><td>{summary}</td></tr>")
    return ('<table class="checks"><tr><th style="width:6em">status</th>'
            '<th style="width:30%">check</th><th>summary / evidence</th></tr>'
            + "".join(rows) + "</table>")


def _faults_table(timeline: object) -> str:
    """When each fault of the run was on, on the scenario's clock, with its evidence."""
    t0 = sr.origin(timeline)
    spans = sr.fault_spans(timeline, t0) if t0 is not None else []
    if not spans:
        return ""
    rows = [f"<tr><td>{_e(span.label)}</td><td>{span.start:.1f} s</td>"
            f"<td>{'still on' if span.end is None else f'{span.end:.1f} s'}</td>"
            f"<td>{evidence_html(dict(span.evidence)) if span.evidence else ''}</td></tr>"
            for span in spans]
    return ('<h3>Faults</h3><table class="faults"><tr><th>fault</th><th>on at</th>'
            '<th>healed at</th><th>evidence</th></tr>' + "".join(rows) + "</table>")


def _check_counts(checks: Sequence[Mapping[str, Any]]) -> str:
    return f"{sum(1 for c in checks if c.get('ok') is True)}/{len(checks)}"


# --- timeline -------------------------------------------------------------------------


def _row_class(event: Mapping[str, Any]) -> str:
    """``ev-bad`` for failures and rollbacks, ``ev-warn`` for doubts, ``ev-good`` for wins."""
    kind = str(event["kind"])
    verdict = str(event.get("verdict", "")).lower()
    phase = str(event.get("phase", ""))
    if (kind == "rollback" or (kind == "check" and event.get("ok") is False)
            or (kind == "canary.analysis" and verdict == "fail")
            or phase in ("rolling_back", "rolled_back", "aborted", "halted")
            or kind.endswith(("_failed", ".failed"))):
        return "ev-bad"
    if (kind in ("canary.rollback_skipped", "canary.metrics_error")
            or (kind == "canary.analysis" and verdict == "marginal")):
        return "ev-warn"
    if (kind == "check" and event.get("ok") is True) or phase == "promoted":
        return "ev-good"
    return ""


def _timeline_table(timeline: object, open_: bool) -> str:
    found = sr.events(timeline)
    if not found:
        return '<p class="note">No timeline events recorded.</p>'
    t0 = sr.origin(timeline)
    ordered = sorted(found, key=lambda e: (sr.event_time(e) is None, sr.event_time(e) or 0.0))
    rows = []
    for event in ordered:
        t = sr.event_time(event)
        offset = f"{t - t0:.1f}" if t is not None and t0 is not None else "—"
        kind = str(event["kind"])
        rest = {k: v for k, v in event.items() if k not in ("ts", "kind")}
        css = f"ev ev-{re.sub(r'[^a-z0-9]+', '-', kind.lower()).strip('-')} {_row_class(event)}"
        rows.append(f'<tr class="{_e(css.strip())}"><td class="num">{offset}</td>'
                    f'<td class="kind">{_e(kind)}</td>'
                    f'<td class="details">{_e(_compact(rest))}</td></tr>')
    return (f"<details{' open' if open_ else ''}><summary>Timeline ({len(found)} events)"
            '</summary><table class="timeline"><tr><th style="width:6em">t (s)</th>'
            '<th style="width:14em">kind</th><th>details</th></tr>'
            + "\n".join(rows) + "</table></details>")


# --- page -----------------------------------------------------------------------------


def _outcome(scenario: Mapping[str, Any]) -> str:
    return str(scenario.get("outcome") or "unknown")


def _badge(outcome: str) -> str:
    css = re.sub(r"[^a-z]+", "", outcome.lower())
    return f'<span class="badge {css}">{_e(outcome)}</span>'


def _scenario_section(scenario: Mapping[str, Any], anchor: str) -> str:
    outcome = _outcome(scenario)
    nodeid = str(scenario.get("nodeid") or "(unnamed scenario)")
    checks = _checks(scenario)
    parts = [f'<section class="scenario card" data-outcome="{_e(outcome)}" id="{_e(anchor)}">',
             f'<div class="scenario-head">{_badge(outcome)}<h2>{_e(nodeid)}</h2></div>']
    meta = [f"duration {_e(_duration(scenario.get('duration_s')))}",
            f"checks {_check_counts(checks)} ok"]
    bundle = scenario.get("bundle")
    if isinstance(bundle, str) and bundle:
        meta.append(f'bundle <a href="{_e(_bundle_href(bundle))}">{_e(bundle)}</a>')
    parts.append(f'<p class="meta">{" · ".join(meta)}</p>')
    failure = scenario.get("failure")
    if failure:
        parts.append(f'<h3>Failure</h3><pre class="failure">{_e(failure)}</pre>')
    parts += ["<h3>Checks</h3>", _checks_table(checks), _faults_table(scenario.get("timeline"))]
    plan = plan_from_timeline(scenario.get("timeline"))
    if plan is not None and plan.get("edges"):
        parts += ["<h3>Plan</h3>", plan_svg(plan)]
    parts.append(dashboard_html(scenario.get("timeline")))
    parts.append(plots_html(scenario.get("timeline")))
    parts.append(_timeline_table(scenario.get("timeline"), open_=outcome != "passed"))
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _summary(scenarios: Sequence[Mapping[str, Any]], anchors: Sequence[str]) -> str:
    if not scenarios:
        return '<p class="note">No scenarios in this run.</p>'
    rows = [f'<tr><td>{_badge(_outcome(s))}</td><td><a href="#{_e(a)}">'
            f'{_e(s.get("nodeid") or "(unnamed scenario)")}</a></td>'
            f'<td class="num">{_e(_duration(s.get("duration_s")))}</td>'
            f'<td class="num">{_check_counts(_checks(s))}</td></tr>'
            for s, a in zip(scenarios, anchors, strict=True)]
    return ('<table class="summary"><tr><th style="width:7em">outcome</th><th>scenario</th>'
            '<th style="width:7em">duration</th><th style="width:6em">checks</th></tr>'
            + "".join(rows) + "</table>")


def _totals(scenarios: Sequence[Mapping[str, Any]]) -> str:
    counts = Counter(_outcome(s) for s in scenarios)
    order = [o for o in OUTCOMES if counts[o]] + sorted(set(counts) - set(OUTCOMES))
    badges = "".join(f'<span class="badge {_e(re.sub(r"[^a-z]+", "", o.lower()))}">'
                     f"{counts[o]} {_e(o)}</span>" for o in order)
    return f'<p class="totals">{len(scenarios)} scenarios {badges}</p>'


def render_report(run: dict[str, Any]) -> str:
    """The report of ``run`` (see the module docstring of ``harness.report``) as HTML."""
    scenarios = _dicts(run.get("scenarios"))
    anchors = _unique_slugs([str(s.get("nodeid") or "") for s in scenarios])
    run_id = str(run.get("run_id") or "unknown run")
    started, finished = sr.number(run.get("started")), sr.number(run.get("finished"))
    duration = finished - started if started is not None and finished is not None else None
    meta = [f"started {_e(_iso(started))}", f"duration {_e(_duration(duration))}"]
    if run.get("command"):
        meta.append(f"command <code>{_e(run['command'])}</code>")
    if run.get("results_dir"):
        meta.append(f"results <code>{_e(run['results_dir'])}</code>")
    body = [
        '<header class="card">',
        f"<h1>cutover run {_e(run_id)}</h1>",
        f'<p class="meta">{" · ".join(meta)}</p>',
        _totals(scenarios),
        _summary(scenarios, anchors),
        "</header>",
        *(_scenario_section(s, a) for s, a in zip(scenarios, anchors, strict=True)),
    ]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>cutover report {_e(run_id)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        *body,
        "</main>",
        f"<script>{SELF_CHECK}</script>",
        "</body>",
        "</html>",
        "",
    ])


def write_report(run: dict[str, Any], path: Path) -> Path:
    """Render ``run`` to ``path`` atomically, readable by everyone it is shared with."""
    return write_text_atomic(path, render_report(run))
