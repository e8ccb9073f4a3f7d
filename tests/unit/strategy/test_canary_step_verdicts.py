"""Each traffic step carries the analysis verdicts taken during it (the JSON's steps)."""

from harness.strategy.canary_steps import with_verdicts


def step(weight: int, started: float, ended: float) -> dict:
    return {"weight": weight, "started": started, "ended": ended}


def test_a_failed_analysis_marks_its_step_and_only_its_step():
    steps = [step(0, 0, 1), step(10, 1, 5), step(30, 5, 9)]
    analyses = [{"weight": 10, "at": 3, "verdict": "pass"},
                {"weight": 10, "at": 4.9, "verdict": "pass"},
                {"weight": 30, "at": 7, "verdict": "marginal"},
                {"weight": 30, "at": 9.3, "verdict": "fail"}]  # the decision, at the close
    out = with_verdicts(steps, analyses)
    assert [(s["weight"], s["verdict"], s["analyses"]) for s in out] == [
        (0, "none", 0), (10, "pass", 2), (30, "fail", 2)]
    assert out[1]["started"] == 1, "the step's own figures are kept"


def test_an_analysis_at_the_same_weight_in_another_step_is_not_counted():
    # a restarted analysis visits 10 % twice: each visit gets its own verdicts
    steps = [step(10, 0, 4), step(0, 4, 5), step(10, 5, 9)]
    analyses = [{"weight": 10, "at": 3, "verdict": "nodata"},
                {"weight": 10, "at": 8, "verdict": "pass"}]
    assert [s["verdict"] for s in with_verdicts(steps, analyses)] == ["nodata", "none", "pass"]
