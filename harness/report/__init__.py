"""A self-contained HTML report of one run: summary, checks, plots and timeline.

``run`` is the JSON form of a session: ``run_id``, ``started``/``finished`` (unix),
``command``, ``results_dir`` and ``scenarios`` (each with ``nodeid``, ``outcome``,
``duration_s``, ``failure``, ``bundle``, ``checks`` and ``timeline``).
"""

from harness.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]
