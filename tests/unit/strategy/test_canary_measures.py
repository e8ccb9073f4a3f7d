"""Resource limits and usage, metric templates and the dashboard: pure logic, with a fake
Prometheus named as such."""

import pytest

from harness.analysis.judge import Judgement, Verdict
from harness.analysis.metrics import MetricSourceError, Sample
from harness.analysis.templates import (
    MetricTemplate,
    dashboard_rows,
    judge_templates,
    load_templates,
)
from harness.checks.canary import resources_within_limits
from harness.deploy.resources import ResourceLimits, parse_cpu, parse_memory, resource_limits
from harness.errors import ConfigError
from harness.report.dashboard import dashboard_html
from harness.strategy.canary_dashboard import dashboard, percentile
from harness.traffic.load import Outcome

VALUES = """
svc:
  canary:
    resources:
      limits: {cpu: 1500m, memory: 2Gi}
    cutover:
      metrics:
        - name: db_errors
          query: 'sum(rate(db_errors_total{version="{version}"}[{interval}]))'
          max: 0.5
        - name: db_ops
          query: 'sum by (backend) (db_ops_total{version="{version}"})'
"""


def test_kubernetes_quantities_and_the_values_limits(tmp_path):
    assert parse_cpu("1500m") == 1.5 and parse_cpu(2) == 2.0 and parse_cpu("x") is None
    assert parse_memory("2Gi") == 2 * 2**30 and parse_memory("256Mi") == 256 * 2**20
    assert parse_memory("1G") == 1e9 and parse_memory("lots") is None
    values = tmp_path / "values.yaml"
    values.write_text(VALUES)
    assert resource_limits(values, "svc.canary") == ResourceLimits(1.5, 2 * 2**30)
    assert resource_limits(values, "other.root") == ResourceLimits()


def usage(cpu_pct, memory_pct):
    return {"v2": {"cpu_cores_p90": 0.3, "rss_bytes_peak": 50 * 2**20,
                   "cpu_limit_pct": cpu_pct, "memory_limit_pct": memory_pct}}


def test_resources_check_fails_above_80_percent_of_a_limit():
    assert resources_within_limits(usage(20.0, 10.0), version="v2", limits_given=True).ok
    over = resources_within_limits(usage(91.0, 10.0), version="v2", limits_given=True)
    assert not over.ok and "CPU at 91 % of its limit" in over.summary
    unlimited = resources_within_limits(usage(None, None), version="v2", limits_given=False)
    assert unlimited.ok and "no resources.limits" in unlimited.summary
    assert resources_within_limits({}, version="v2", limits_given=True).ok


def test_templates_load_with_their_bounds_and_bad_entries_are_named(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(VALUES)
    errors, ops = load_templates(values, "svc.canary")
    assert errors.max == 0.5 and errors.judged and not ops.judged
    assert errors.render(version="v2", slot="canary", interval_s=1.2) == \
        'sum(rate(db_errors_total{version="v2"}[4s]))'
    values.write_text("svc:\n  canary:\n    cutover:\n      metrics:\n        - name: x\n")
    with pytest.raises(ConfigError, match=r"svc.canary.cutover.metrics\[0\] needs"):
        load_templates(values, "svc.canary")


class FakePrometheus:
    def __init__(self, answers=None, fail=False):
        self.answers, self.fail, self.queries = answers or {}, fail, []

    def query(self, promql, *, at=None):
        self.queries.append(promql)
        if self.fail:
            raise MetricSourceError("down")
        return [Sample(labels, value, at or 0) for key, labels, value in
                self.answers.get("all", []) if key in promql]


def test_a_judged_template_out_of_range_fails_the_sample():
    template = MetricTemplate("db_errors", 'db_errors{version="{version}"}', max=0.5)
    source = FakePrometheus({"all": [('version="v2"', {}, 0.9)]})
    passing = Judgement(Verdict.PASS, ["fine"], {})
    judged = judge_templates(passing, source, [template], canary_version="v2", start=0,
                             end=5)
    assert judged.verdict is Verdict.FAIL and judged.reasons[0] == \
        "canary db_errors 0.9 > max 0.5"
    quiet = judge_templates(passing, FakePrometheus(), [template], canary_version="v2",
                            start=0, end=5)
    assert quiet.verdict is Verdict.PASS, "no data judges nothing"
    with pytest.raises(MetricSourceError):
        judge_templates(passing, FakePrometheus(fail=True), [template],
                        canary_version="v2", start=0, end=5)


def test_the_dashboard_puts_versions_side_by_side_and_renders():
    ledger = [Outcome(i, "v1" if i % 2 else "v2", 503 if i == 4 else 200, float(i),
                      slot="stable" if i % 2 else "canary") for i in range(10)]
    ledger.append(Outcome(11, "", 0, 5000.0))
    rows = dashboard_rows(FakePrometheus({"all": [("version", {"backend": "pg"}, 3.0)]}),
                          [MetricTemplate("db_ops", 'ops{version="{version}"}')],
                          versions={"stable": "v1", "canary": "v2"}, start=0, end=10)
    assert rows == [{"name": "db_ops", "labels": "backend=pg", "stable": 3.0, "canary": 3.0}]
    data = dashboard(ledger=ledger, roles={"v1": "stable", "v2": "canary"},
                     usage={"v2": {"cpu_cores_p90": 0.2}}, app_metrics=rows,
                     steps=[{"weight": 10, "observed_pct": 9.0, "router_pct": 10.0,
                             "tolerance_pct": 3.0, "requests": 100, "duration_s": 6.0,
                             "within_tolerance": True}])
    stable, canary, unanswered = data["versions"]
    assert (stable["version"], canary["version"]) == ("v1", "v2")
    assert canary["by_code"] == {"2xx": 4, "5xx": 1} and canary["error_rate_pct"] == 20.0
    assert unanswered["by_code"] == {"no answer": 1}
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    page = dashboard_html([{"kind": "canary.dashboard", **data}])
    for table in ("versions", "steps", "app-metrics"):
        assert f'data-dashboard="{table}"' in page
    assert dashboard_html([{"kind": "canary.phase"}]) == ""
