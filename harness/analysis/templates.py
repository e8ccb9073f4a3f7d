"""The service's own metrics as query templates in its policy (Flagger's MetricTemplate,
Argo's AnalysisTemplate, in the values file).

    mysvc:
      canary:
        cutover:
          metrics:
            - name: db_error_ratio
              query: >-
                sum(increase(mysvc_db_calls_total{version="{version}",outcome="error"}
                [{interval}])) / sum(increase(mysvc_db_calls_total{version="{version}"}
                [{interval}]))
              max: 0.01

``{version}`` is the version's label, ``{slot}`` its router slot (stable, canary) and
``{interval}`` the range of the sample (e.g. ``4s``). A template with ``max`` and/or
``min`` is judged at every analysis: a canary value outside the range is a FAIL. One
without a range is only shown on the dashboard. A query that returns nothing judges
nothing (the service may not have served that route yet); a query Prometheus refuses
or cannot answer is a metrics failure, counted towards aborting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.analysis.judge import Judgement, Verdict
from harness.analysis.metrics import Sample
from harness.analysis.prometheus import PrometheusMetricSource
from harness.errors import ConfigError

MIN_RANGE_S = 4


@dataclass(frozen=True)
class MetricTemplate:
    """One query of the service's own metrics, with an optional allowed range."""

    name: str
    query: str
    max: float | None = None
    min: float | None = None

    @property
    def judged(self) -> bool:
        return self.max is not None or self.min is not None

    def render(self, *, version: str, slot: str, interval_s: float) -> str:
        span = f"{max(MIN_RANGE_S, math.ceil(interval_s))}s"
        return (self.query.replace("{version}", version).replace("{slot}", slot)
                .replace("{interval}", span))

    def breach(self, value: float) -> str | None:
        if self.max is not None and value > self.max:
            return f"canary {self.name} {value:.4g} > max {self.max:g}"
        if self.min is not None and value < self.min:
            return f"canary {self.name} {value:.4g} < min {self.min:g}"
        return None


def load_templates(values: str | Path, root: str) -> list[MetricTemplate]:
    """``<root>.cutover.metrics`` of a values file ([] when absent).

    Raises:
        ConfigError: An entry without a name or query, or a non-numeric bound; names
            the entry.
    """
    node: Any = yaml.safe_load(Path(values).read_text())
    for part in [*root.split("."), "cutover", "metrics"]:
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return []
    where = f"{root}.cutover.metrics"
    if not isinstance(node, list):
        raise ConfigError(f"{where} must be a list of {{name, query, max, min}}")
    templates = []
    for index, entry in enumerate(node):
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("query"):
            raise ConfigError(f"{where}[{index}] needs a name and a query")
        bounds = {}
        for bound in ("max", "min"):
            value = entry.get(bound)
            if value is not None and not isinstance(value, int | float):
                raise ConfigError(f"{where}[{index}].{bound} must be a number, not {value!r}")
            bounds[bound] = None if value is None else float(value)
        templates.append(MetricTemplate(str(entry["name"]), str(entry["query"]), **bounds))
    return templates


def evaluate(source: PrometheusMetricSource, template: MetricTemplate, *, version: str,
             slot: str, start: float, end: float) -> list[Sample]:
    """The template's samples for one version over [start, end]; may raise
    ``MetricSourceError``."""
    return source.query(template.render(version=version, slot=slot,
                                        interval_s=end - start), at=end)


def judge_templates(judgement: Judgement, source: PrometheusMetricSource,
                    templates: list[MetricTemplate], *, canary_version: str, start: float,
                    end: float) -> Judgement:
    """``judgement`` with every judged template's finding added: a breach is a FAIL."""
    reasons, values, verdict = list(judgement.reasons), dict(judgement.values), \
        judgement.verdict
    for template in (t for t in templates if t.judged):
        samples = evaluate(source, template, version=canary_version, slot="canary",
                           start=start, end=end)
        finite = [s.value for s in samples if math.isfinite(s.value)]
        if not finite:
            continue
        value = max(finite) if template.max is not None else min(finite)
        values[f"canary_{template.name}"] = value
        breach = template.breach(value)
        if breach and verdict is not Verdict.NODATA:
            verdict = Verdict.FAIL
            reasons.insert(0, breach)
    return Judgement(verdict, reasons, values)


def dashboard_rows(source: PrometheusMetricSource, templates: list[MetricTemplate], *,
                   versions: dict[str, str], start: float, end: float) \
        -> list[dict[str, Any]]:
    """Every template for every version over the whole run, one row per label set."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for template in templates:
        for slot, version in versions.items():
            for sample in evaluate(source, template, version=version, slot=slot,
                                   start=start, end=end):
                labels = ", ".join(f"{k}={v}" for k, v in sorted(sample.labels.items())
                                   if k not in ("version", "slot", "deployed_version"))
                row = rows.setdefault((template.name, labels),
                                      {"name": template.name, "labels": labels})
                row[slot] = round(sample.value, 6)
    return list(rows.values())
