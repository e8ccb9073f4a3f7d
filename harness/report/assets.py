"""The report's stylesheet and its self-check script, inline in every report so it
stays one self-contained file."""

CSS = """
:root { --pass: #2ca02c; --fail: #d62728; --error: #8b0000; --skip: #9e9e9e;
        --line: #e3e6ea; --muted: #6b7380; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1d2430;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0; word-break: break-all; }
h3 { font-size: 14px; margin: 18px 0 6px; color: #39414d; text-transform: uppercase;
     letter-spacing: .04em; }
a { color: #1f5fa8; }
.meta { color: var(--muted); margin: 0 0 12px; }
.meta code { color: #1d2430; }
.card { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.08);
        padding: 16px 20px; margin: 16px 0; }
section.scenario { border-left: 5px solid var(--skip); }
section.scenario[data-outcome="passed"] { border-left-color: var(--pass); }
section.scenario[data-outcome="failed"] { border-left-color: var(--fail); }
section.scenario[data-outcome="error"] { border-left-color: var(--error); }
.scenario-head { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; color: #fff;
         font-size: 12px; font-weight: 600; background: var(--skip); white-space: nowrap; }
.badge.passed, .badge.ok { background: var(--pass); }
.badge.failed, .badge.bad { background: var(--fail); }
.badge.error { background: var(--error); }
.totals .badge { font-size: 13px; margin-right: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px;
         border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: #39414d; background: #fafbfc; }
table.summary td:nth-child(2), table.checks td { word-break: break-word; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.check-failed > td { background: #fdecea; }
table.evidence { margin-top: 6px; width: auto; min-width: 40%; font-size: 12px;
                 background: #fff; }
table.evidence th, table.evidence td { border: 1px solid var(--line); padding: 2px 6px; }
table.evidence td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.failure { background: #1e2229; color: #f2f2f2; padding: 12px 14px; border-radius: 6px;
              overflow: auto; max-height: 420px; white-space: pre-wrap;
              word-break: break-word; font-size: 12px; }
svg.plot { display: block; width: 100%; height: auto; background: #fff; margin: 10px 0;
           border: 1px solid var(--line); border-radius: 6px; }
.note { color: var(--muted); font-style: italic; }
table.timeline td.details { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
                            monospace; font-size: 12px; word-break: break-all; }
table.timeline td.kind { white-space: nowrap; font-weight: 600; }
tr.ev-bad > td { background: #fdecea; }
tr.ev-warn > td { background: #fff5dc; }
tr.ev-good > td { background: #eaf6ea; }
details > summary { cursor: pointer; color: #39414d; font-weight: 600; margin: 14px 0 6px; }
.muted { color: var(--muted); }
"""

SELF_CHECK = """
(function () {
  function check() {
    var plots = document.querySelectorAll("svg.plot"), n = 0;
    Array.prototype.forEach.call(plots, function (svg) {
      var box = svg.getBoundingClientRect();
      var lines = svg.querySelectorAll(".series polyline, .series path");
      var drawn = Array.prototype.some.call(lines, function (el) {
        var name = el.tagName.toLowerCase() === "path" ? "d" : "points";
        return (el.getAttribute(name) || "").trim().length > 0;
      });
      if (box.width > 0 && box.height > 0 && drawn) { n += 1; }
    });
    document.body.dataset.plotsRendered = String(n);
    document.body.dataset.plotsTotal = String(plots.length);
  }
  check();
  window.addEventListener("load", check);
})();
"""
