"""Canary analysis: metrics, thresholds and statistical comparison into verdicts."""

from harness.analysis.judge import Judgement, Verdict, judge
from harness.analysis.metrics import MetricSource, MetricSourceError, Sample
from harness.analysis.prometheus import PrometheusMetricSource
from harness.analysis.stats import StatsError, UTest, errors_greater, mann_whitney_u, p_greater
from harness.analysis.window import Window, WindowError

__all__ = [
    "Judgement",
    "MetricSource",
    "MetricSourceError",
    "PrometheusMetricSource",
    "Sample",
    "StatsError",
    "UTest",
    "Verdict",
    "Window",
    "WindowError",
    "errors_greater",
    "judge",
    "mann_whitney_u",
    "p_greater",
]
