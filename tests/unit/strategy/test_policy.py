import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import CutoverError
from harness.strategy.policy import (
    CanaryPolicy,
    PolicyError,
    format_duration,
    load_policy,
    parse_duration,
)

SAMPLE = Path(__file__).parents[3] / "fixtures" / "policies" / "data-tier-values.yaml"
R = "dataTier.canary"


def canary(body: str) -> str:
    """A values document with ``body`` (indented 4) under dataTier.canary."""
    lines = "\n".join("    " + line for line in body.strip("\n").splitlines())
    return f"dataTier:\n  canary:\n{lines}\n"


def issues_of(text: str, **overrides) -> dict[str, str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(text, **overrides)
    return {i.key_path: i.message for i in caught.value.issues}


def test_sample_file_resolves_to_seed_values():
    policy = load_policy(SAMPLE)
    assert policy == CanaryPolicy(
        enabled=False, version="canary", traffic_percentage=0,
        increments=(0, 10, 30, 50, 75, 100), stability_period_s=900,
        auto_promotion_enabled=False, promote_error_rate_pct=1.0,
        promote_error_duration_s=1800, promote_latency_ms=500,
        promote_latency_duration_s=1800, rollback_enabled=True,
        rollback_error_rate_pct=5.0, rollback_error_duration_s=300,
        compression_factor=60, min_samples=10, analysis_interval_s=10)
    assert load_policy(str(SAMPLE)) == policy


def test_missing_keys_take_the_values_file_defaults():
    policy = load_policy(canary("enabled: true"))
    assert policy == CanaryPolicy(enabled=True)
    assert policy.increments == (0, 10, 30, 50, 75, 100)
    assert policy.stability_period_s == 900
    assert (policy.promote_error_rate_pct, policy.promote_latency_ms) == (1.0, 500)
    assert (policy.rollback_enabled, policy.rollback_error_rate_pct) == (True, 5.0)
    assert (policy.compression_factor, policy.min_samples) == (1, 10)
    assert policy.version == ""


@pytest.mark.parametrize(("value", "seconds"), [
    ("30m", 1800), ("5m", 300), ("90s", 90), ("1h", 3600), ("1h30m", 5400),
    ("500ms", 0.5), ("1.5h", 5400), ("2m30s", 150), ("0", 0), ("0s", 0), ("90", 90),
    (45, 45), (2.5, 2.5), ("100us", 1e-4), (" 15m ", 900),
])
def test_parse_duration(value, seconds):
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "m", "-5m", "5 m", "5min", "1d", "h1",
                                   True, None, [1], -3])
def test_parse_duration_rejects(value):
    with pytest.raises(PolicyError) as caught:
        parse_duration(value, "a.b")
    assert isinstance(caught.value, CutoverError)
    assert caught.value.issues[0].key_path == "a.b"


@pytest.mark.parametrize(("seconds", "text"), [
    (900, "15m"), (5400, "1h30m"), (0.5, "500ms"), (15, "15s"), (1.5, "1.5s"), (3600, "1h"),
    (0, "0ms")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_compression_divides_real_durations():
    policy = load_policy(SAMPLE)
    assert policy.effective_analysis_interval_s == 0.5  # 10 s / 60 floored at 0.5 s
    assert policy.effective_stability_period_s == 15
    assert policy.effective_promote_error_duration_s == 30
    assert policy.effective_promote_latency_duration_s == 30
    assert policy.effective_rollback_error_duration_s == 5  # 10 samples x 0.5 s


def test_min_samples_floor_wins_over_heavy_compression():
    policy = CanaryPolicy(compression_factor=600, min_samples=20, analysis_interval_s=30)
    assert policy.effective_analysis_interval_s == 0.5
    assert policy.effective_stability_period_s == 10  # 20 x 0.5 s > 900 / 600
    assert policy.effective_rollback_error_duration_s == 10  # 20 x 0.5 s > 300 / 600
    coarse = CanaryPolicy(compression_factor=2, min_samples=10, analysis_interval_s=60)
    assert coarse.effective_analysis_interval_s == 30
    assert coarse.effective_rollback_error_duration_s == 300  # 10 x 30 s > 150 s


def test_no_compression_keeps_real_time():
    policy = CanaryPolicy()
    assert policy.effective_stability_period_s == 900
    assert policy.effective_analysis_interval_s == 10
    assert policy.effective_rollback_error_duration_s == 300


def test_overrides_replace_file_values():
    policy = load_policy(SAMPLE, compression_factor=1, min_samples=3,
                         increments=[0, 50, 100], stability_period_s=60)
    assert policy.increments == (0, 50, 100)
    assert (policy.compression_factor, policy.min_samples) == (1, 3)
    assert policy.effective_stability_period_s == 60
    assert issues_of(str(SAMPLE), compression_factor=0.5) == {
        "compression_factor (argument)": "0.5 is below 1"}


def test_to_json_states_every_resolved_value():
    data = load_policy(SAMPLE).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["increments"] == [0, 10, 30, 50, 75, 100]
    assert data["compression_factor"] == 60 and data["min_samples"] == 10
    assert data["effective"] == {
        "stability_period_s": 15, "promote_error_duration_s": 30,
        "promote_latency_duration_s": 30, "rollback_error_duration_s": 5,
        "analysis_interval_s": 0.5}
    assert "minimum number of samples" in data["time_rule"]
    assert data["rollback_error_duration_s"] == 300


@pytest.mark.parametrize(("body", "key", "fragment"), [
    ("enabled: yes please", "enabled", "true or false"),
    ("trafficPercentage: 12.5", "trafficPercentage", "whole number"),
    ("trafficPercentage: 150", "trafficPercentage", "outside 0..100"),
    ("trafficPercentage: '10'", "trafficPercentage", "a number"),
    ("image:\n  tag: 1.10", "image.tag", "a string"),
    ("autoPromotion:\n  enabled: 1", "autoPromotion.enabled", "true or false"),
    ("autoPromotion:\n  metrics:\n    errorRate:\n      threshold: 101",
     "autoPromotion.metrics.errorRate.threshold", "not a percentage"),
    ("autoPromotion:\n  metrics:\n    errorRate:\n      duration: 30 minutes",
     "autoPromotion.metrics.errorRate.duration", "not a duration"),
    ("autoPromotion:\n  metrics:\n    responseTime:\n      thresholdMs: 0",
     "autoPromotion.metrics.responseTime.thresholdMs", "above 0"),
    ("autoPromotion:\n  metrics:\n    responseTime:\n      duration: 1d",
     "autoPromotion.metrics.responseTime.duration", "not a duration"),
    ("rollback:\n  enabled: 'true'", "rollback.enabled", "true or false"),
    ("rollback:\n  metrics:\n    errorRate:\n      threshold: -1",
     "rollback.metrics.errorRate.threshold", "not a percentage"),
    ("rollback:\n  metrics:\n    errorRate:\n      duration: -5m",
     "rollback.metrics.errorRate.duration", "not a duration"),
    ("cutover:\n  increments: [10, 30, 100]", "cutover.increments", "start at 0"),
    ("cutover:\n  increments: [0, 30, 30, 100]", "cutover.increments", "strictly increasing"),
    ("cutover:\n  increments: [0, 50, 90]", "cutover.increments", "end at 100"),
    ("cutover:\n  increments: 0 10 100", "cutover.increments", "list of whole"),
    ("cutover:\n  increments: [0, 0.5, 100]", "cutover.increments", "list of whole"),
    ("cutover:\n  stabilityPeriod: soon", "cutover.stabilityPeriod", "not a duration"),
    ("cutover:\n  compressionFactor: 0.5", "cutover.compressionFactor", "below 1"),
    ("cutover:\n  compressionFactor: fast", "cutover.compressionFactor", "a number"),
    ("cutover:\n  minSamples: 0", "cutover.minSamples", "below 1"),
    ("cutover:\n  minSamples: 2.5", "cutover.minSamples", "whole number"),
    ("cutover:\n  analysisInterval: 0s", "cutover.analysisInterval", "above 0"),
    ("autoPromotion: true", "autoPromotion", "must be a mapping"),
])
def test_each_issue_names_its_key_path(body, key, fragment):
    issues = issues_of(canary(body))
    assert list(issues) == [f"{R}.{key}"]
    assert fragment in issues[f"{R}.{key}"]


def test_rollback_threshold_must_exceed_promotion_threshold():
    body = ("autoPromotion:\n  metrics:\n    errorRate:\n      threshold: 2.0\n"
            "rollback:\n  metrics:\n    errorRate:\n      threshold: 2.0")
    with pytest.raises(PolicyError) as caught:
        load_policy(canary(body))
    [issue] = caught.value.issues
    assert issue.key_path == f"{R}.rollback.metrics.errorRate.threshold"
    assert "both count as healthy for promotion and trigger a rollback" in issue.message
    assert "raise it above 2" in issue.fix
    disabled = body.replace("rollback:\n", "rollback:\n  enabled: false\n")
    assert load_policy(canary(disabled)).rollback_enabled is False


def test_every_issue_is_reported_at_once_one_line_each():
    body = "enabled: 3\ntrafficPercentage: 200\ncutover:\n  minSamples: 0"
    with pytest.raises(PolicyError) as caught:
        load_policy(canary(body))
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{R}.enabled: must be true or false, not 3; fix: ")


@pytest.mark.parametrize(("body", "key", "suggestion"), [
    ("trafficPercent: 10", "trafficPercent", "trafficPercentage"),
    ("enable: true", "enable", "enabled"),
    ("rollback:\n  metrics:\n    errorRate:\n      treshold: 2",
     "rollback.metrics.errorRate.treshold", "threshold"),
    ("autoPromotion:\n  metrics:\n    responseTime:\n      thresholdMS: 300",
     "autoPromotion.metrics.responseTime.thresholdMS", "thresholdMs"),
    ("cutover:\n  compresionFactor: 60", "cutover.compresionFactor", "compressionFactor"),
    ("replicaCont: 2", "replicaCont", "replicaCount"),
])
def test_typo_keys_name_the_likely_key(body, key, suggestion):
    with pytest.raises(PolicyError) as caught:
        load_policy(canary(body))
    [issue] = caught.value.issues
    assert issue.key_path == f"{R}.{key}"
    assert f"did you mean {suggestion!r}" in issue.message
    assert f"rename it to {suggestion}" in issue.fix


def test_unrelated_unknown_keys_and_resources_are_ignored():
    body = "podAnnotations:\n  a: b\nresources:\n  limts:\n    cpu: 1"
    assert load_policy(canary(body)) == CanaryPolicy()


def test_invalid_yaml_reports_line_and_column():
    text = "dataTier:\n  canary:\n    enabled: true\n   trafficPercentage: 10\n"
    with pytest.raises(PolicyError) as caught:
        load_policy(text)
    [issue] = caught.value.issues
    assert (issue.line, issue.key_path) == (4, "")
    assert issue.column is not None and issue.message.startswith("invalid YAML: ")
    assert str(caught.value).startswith("4:")


@pytest.mark.parametrize(("text", "path"), [
    ("other: 1\n", "dataTier"), ("dataTier:\n  stable: {}\n", "dataTier.canary"),
    ("dataTier:\n  canary: 3\n", "dataTier.canary"), ("- a\n- b\n", "dataTier")])
def test_missing_canary_section_names_the_path(text, path):
    with pytest.raises(PolicyError) as caught:
        load_policy(text)
    assert [i.key_path for i in caught.value.issues] == [path]


def test_unreadable_file(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.yaml")
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(str(tmp_path / "absent.yml"))


def test_direct_construction_is_validated():
    with pytest.raises(PolicyError, match="strictly increasing"):
        CanaryPolicy(increments=(0, 50, 50, 100))
    with pytest.raises(PolicyError, match="below 1"):
        CanaryPolicy(compression_factor=0)


def test_cli_check_text(capsys):
    assert main(["policy", "check", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "0% -> 10% -> 30% -> 50% -> 75% -> 100%" in out
    assert "compression x60, at least 10 samples every 500ms (real 10s)" in out
    assert any(line.split() == ["stability", "period", "per", "step", "15m", "15s"]
               for line in out.splitlines())
    assert any(line.split()[-3:] == ["5%", "5m", "5s"] and "rollback (on)" in line
               for line in out.splitlines())


def test_cli_check_json_with_overrides(capsys):
    args = ["policy", "check", str(SAMPLE), "--json", "--compression-factor", "4",
            "--min-samples", "2"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["compression_factor"], data["min_samples"]) == (4, 2)
    assert data["effective"]["stability_period_s"] == 225
    assert data["effective"]["analysis_interval_s"] == 2.5


def test_cli_check_invalid_exits_2_one_line_per_issue(tmp_path, capsys):
    values = tmp_path / "values.yaml"
    values.write_text(canary("trafficPercent: 10\ncutover:\n  minSamples: 0"))
    assert main(["policy", "check", str(values)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == (f"{values}:{R}.trafficPercent: unknown key 'trafficPercent'; did you "
                        "mean 'trafficPercentage'? (fix: rename it to trafficPercentage (Helm "
                        "ignores unknown keys, so the default applies silently))")
    assert lines[1].startswith(f"{values}:{R}.cutover.minSamples: 0 is below 1 (fix: ")
    assert lines[2] == f"2 problem(s) in {values}"


def test_cli_check_invalid_yaml_gives_line(tmp_path, capsys):
    values = tmp_path / "values.yaml"
    values.write_text("dataTier:\n  canary: [1\n")
    assert main(["policy", "check", str(values)]) == 2
    assert capsys.readouterr().err.startswith(f"{values}:3:1: invalid YAML: ")
