"""Canary analysis: metrics, thresholds and statistical comparison into verdicts."""

from harness.analysis.judge import Judgement, Verdict, judge
from harness.analysis.metrics import MetricSource, MetricSourceError, Sample
from harness.analysis.prometheus import PrometheusMetricSource
from harness.analysis.stats import (
    StatsError,
    UTest,
    ZTest,
    mann_whitney_u,
    p_greater,
    two_proportion_z,
)
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
    "ZTest",
    "judge",
    "mann_whitney_u",
    "p_greater",
    "two_proportion_z",
]
