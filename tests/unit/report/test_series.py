from __future__ import annotations

from typing import Any

from harness.report import series as sr

T0 = 1763780100.0


def ev(t: float, kind: str, **details: Any) -> dict[str, Any]:
    return {"ts": T0 + t, "kind": kind, **details}


def analysis(t: float, weight: int, verdict: str, **values: Any) -> dict[str, Any]:
    return ev(t, "canary.analysis", at=T0 + t, weight=weight, verdict=verdict,
              reasons=[f"{verdict} because"], values=values)


ROLLBACK = [
    ev(0, "scenario.start"),
    ev(0.5, "canary.policy", error_rate_fail_pct=5.0, error_rate_pass_pct=1.0,
       latency_p95_ms_max=500.0, rollback_enabled=True),
    ev(1, "canary.weight", weight=0),
    ev(2, "canary.weight", weight=10),
    ev(2, "canary.phase", phase="analysing", previous="shifting", weight=10, reason="0 -> 10"),
    analysis(5, 10, "pass", canary_error_rate_pct=0.4, stable_error_rate_pct=0.2,
             canary_p95_ms=90.0, stable_p95_ms=80.0, canary_p99_ms=120, stable_p99_ms=100),
    ev(6, "fault", slot="canary", error_rate=0.3, added_latency_ms=0),
    analysis(9, 10, "fail", canary_error_rate_pct=30.0, stable_error_rate_pct="n/a",
             canary_p95_ms="n/a", stable_p95_ms=81.0),
    ev(9.5, "rollback", at=T0 + 9.5, reason="error rate", weight_before=10, values={}),
    ev(9.5, "canary.weight", weight=0),
    ev(9.5, "canary.phase", phase="rolled_back", previous="rolling_back", weight=0),
    ev(12, "fault", slot="canary", error_rate=0, added_latency_ms=0),
    ev(15, "scenario.end"),
]


def test_a_rollback_at_10_percent_after_a_fault() -> None:
    t0 = sr.origin(ROLLBACK)
    assert t0 == T0
    assert sr.has_canary(ROLLBACK)
    assert sr.canary_weights(ROLLBACK, T0) == [(1, 0), (2, 10), (9.5, 0), (15, 0)]
    assert sr.canary_policy(ROLLBACK)["error_rate_fail_pct"] == 5.0

    found = sr.canary_annotations(ROLLBACK, T0)
    assert [(a.x, a.kind) for a in found] == [
        (6, "fault_on"), (9.5, "rollback"), (12, "faults_off")]
    assert found[0].label == "fault on: error_rate=0.3"
    assert found[1].label == "rollback at 10 %"


def test_verdicts_and_values_with_n_a_as_gaps() -> None:
    verdicts = sr.analyses(ROLLBACK, T0)
    assert [(a.x, a.weight, a.verdict) for a in verdicts] == [(5, 10, "pass"), (9, 10, "fail")]
    assert verdicts[1].reasons == ("fail because",)
    assert sr.error_rates(ROLLBACK, T0) == {"stable": [(5, 0.2), (9, None)],
                                            "canary": [(5, 0.4), (9, 30.0)]}
    latency = sr.latencies(ROLLBACK, T0)
    assert latency["canary p95"] == [(5, 90.0), (9, None)]
    assert latency["stable p99"] == [(5, 100.0), (9, None)]


def test_a_promotion_from_phase_weights_alone() -> None:
    timeline = [
        ev(0, "canary.phase", phase="deploying", previous="init", weight=0),
        ev(1, "canary.phase", phase="analysing", previous="shifting", weight=50),
        ev(4, "canary.phase", phase="analysing", previous="shifting", weight=100),
        ev(8, "canary.phase", phase="promoting", previous="analysing", weight=100),
        ev(9, "canary.phase", phase="promoted", previous="promoting", weight=0),
        ev(10, "version_promoted", version="v2"),
    ]
    assert sr.canary_weights(timeline, T0) == [(0, 0), (1, 50), (4, 100), (9, 0), (10, 0)]
    assert [(a.x, a.kind, a.label) for a in sr.canary_annotations(timeline, T0)] == [
        (9, "promoted", "promoted")]
    assert sr.weight_at(sr.canary_weights(timeline, T0), 5) == 100
    assert sr.weight_at([], 5) is None


def test_rollback_skipped_and_a_rolled_back_phase_without_rollback_event() -> None:
    timeline = [
        ev(0, "canary.rollback_skipped", weight=25, reason="rollback disabled"),
        ev(3, "canary.phase", phase="rolled_back", previous="rolling_back", weight=0),
    ]
    assert [(a.kind, a.label) for a in sr.canary_annotations(timeline, T0)] == [
        ("rollback_skipped", "rollback skipped at 25 %"), ("rollback", "rolled back")]


SAMPLES = [
    ev(0, "bluegreen.pairs", pairs=[["a", "a_v2"], ["b", "b_v2"]]),
    ev(1, "sample", series="records", table="a", value=100),
    ev(2, "sample", series="records", table="a_v2", value=80),
    ev(3, "sample", series="records", table="a", value=200),
    ev(4, "sample", series="records", table="a_v2", value=190),
    ev(5, "sample", series="records", table="a_v2", value=200),
    ev(5, "sample", series="latency", table="a", value=7),
    ev(6, "sample", series="records", table="b", value=5),
]


def test_record_counts_per_table() -> None:
    counts = sr.record_counts(SAMPLES, T0)
    assert counts == {"a": [(1, 100), (3, 200)], "a_v2": [(2, 80), (4, 190), (5, 200)],
                      "b": [(6, 5)]}


def test_lag_uses_the_latest_sample_at_or_before_each_time() -> None:
    lags = sr.lags(SAMPLES, T0)
    # t=1: no v2 sample yet; t=2: 100-80; t=3: 200-80; t=4: 200-190; t=5: 200-200
    assert lags[("a", "a_v2")] == [(2, 20), (3, 120), (4, 10), (5, 0)]
    assert lags[("b", "b_v2")] == []


def test_pairs_are_inferred_from_v2_names_without_a_pairs_event() -> None:
    assert sr.bluegreen_pairs(SAMPLES[1:]) == [("a", "a_v2")]
    assert sr.latest_at([(1, 10.0), (2, 20.0)], 1.5) == 10.0
    assert sr.latest_at([(1, 10.0)], 0.5) is None


def test_garbage_is_ignored() -> None:
    timeline: list[Any] = [
        "not an event", None, {"kind": 3}, {"ts": "soon", "kind": "canary.weight", "weight": 5},
        ev(1, "canary.weight", weight=True), ev(2, "canary.weight", weight=float("nan")),
        ev(3, "canary.analysis", verdict=None, values="broken", reasons="no list"),
        ev(4, "sample", series="records", table=None, value=3),
        ev(5, "sample", series="records", table="t", value="many"),
        ev(6, "bluegreen.pairs", pairs=[["only one"], [1, 2], "xy"]),
    ]
    assert sr.origin(timeline) == T0 + 1
    assert sr.canary_weights(timeline, T0) == []
    (only,) = sr.analyses(timeline, T0)
    assert (only.verdict, only.reasons, dict(only.values)) == ("nodata", (), {})
    assert sr.record_counts(timeline, T0) == {}
    assert sr.bluegreen_pairs(timeline) == []
    assert sr.origin([]) is None and sr.origin(None) is None
    assert not sr.has_canary([])


def test_at_is_used_when_ts_is_missing() -> None:
    assert sr.event_time({"kind": "x", "at": 5.0}) == 5.0
    assert sr.event_time({"kind": "x", "ts": 1.0, "at": 5.0}) == 1.0
    assert sr.event_time({"kind": "x"}) is None
