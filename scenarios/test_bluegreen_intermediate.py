"""Scenario: blue/green update of an intermediate statement (runbook, Fig. 4).

The data product runs; a branch changes one intermediate statement (a computed
sentiment label). The impact plan redeploys that statement and every descendant as v2
while the green statements keep running untouched, and data keeps flowing throughout.
Then the run is promoted (consumers read v2, v1 stops) or rolled back (v2 is gone, v1
serves everything), with nothing lost and nothing duplicated.
"""

from fixtures.bluegreen import FACT, INT, VIEW
from harness.checks import (
    StatementWatcher,
    green_untouched,
    new_field_everywhere,
    no_duplicates,
    nothing_lost,
    parity,
)

V1 = (INT, FACT, VIEW)
V2 = (f"{INT}_v2", f"{FACT}_v2", f"{VIEW}_v2")
LABELS = {"positive", "negative", "neutral"}
UNCHANGED_COLUMNS = ["score_id", "article_id", "ticker_id", "source", "score"]


def deploy_and_change(run, flink_rest):
    """Steps 1-4 of the runbook: deploy, send data, plan the change, deploy it live."""
    run.deployer.deploy(run.model)
    run.data.seed_product(tickers=25, articles=250, scores=1500)
    run.wait_complete(V1)

    plan = run.plan_from_branch("add_sentiment_label")
    assert [(r.table, r.new_name) for r in plan.redeploy] == list(zip(V1, V2, strict=True))
    redeployed = {r.table for r in plan.redeploy}
    green = [s for n, s in run.deployer.statements.items() if n not in redeployed]
    assert sorted(s.name for s in green) == ["int_ticker_articles", "src_articles",
                                             "src_scores", "src_tickers"]

    with StatementWatcher(flink_rest, green) as watcher:
        with run.data.injector("raw_scores", rate_per_s=150) as live:
            live.start(lambda: run.data.next_record("raw_scores"))
            run.deployer.deploy_plan(run.model, plan)
            send_some_of_everything(run)  # every green statement gets input meanwhile
            stats = live.stop()
        assert stats.failed == 0 and stats.acked > 0
        run.wait_complete(V1)
        run.wait_complete(V2)
    return plan, green, watcher


def send_some_of_everything(run, scores=0):
    run.data.send("raw_tickers", 2)
    run.data.send("raw_articles", 20)
    if scores:
        run.data.send("raw_scores", scores)


def assert_outputs_exact(run, tables):
    int_table, fact, _ = tables
    rows = run.rows(int_table)
    run.record(no_duplicates(rows, "score_id", sink=int_table)).require()
    run.record(nothing_lost(run.data.acked("raw_scores"), rows, "score_id",
                            sink=int_table)).require()
    run.record(no_duplicates(run.rows(fact), "ticker_id", sink=fact)).require()


def test_intermediate_update_is_deployed_beside_v1_and_promoted(blue_green, flink_rest):
    run = blue_green
    plan, green, watcher = deploy_and_change(run, flink_rest)

    assert_outputs_exact(run, V1)
    assert_outputs_exact(run, V2)
    v2_rows = run.rows(V2[0])
    run.record(new_field_everywhere(v2_rows, "sentiment_label", sink=V2[0],
                                    allowed=LABELS)).require()
    assert all((r["score"] >= 0.2) == (r["sentiment_label"] == "positive") for r in v2_rows)
    run.record(parity(run.rows(V1[0]), v2_rows, key="score_id", columns=UNCHANGED_COLUMNS,
                      name=INT)).require()
    run.record(parity(run.rows(FACT), run.rows(V2[1]), key="ticker_id",
                      columns=["symbol", "sector", "score_count"], name=FACT)).require()
    run.record(green_untouched(watcher.samples, {s.name: s.job_id for s in green})).require()

    v1_jobs = {name: run.deployer.statements[name].job_id for name in V1}
    run.deployer.promote(plan)
    assert {t: run.deployer.active[t] for t in V1} == dict(zip(V1, V2, strict=True))
    assert all(flink_rest.job(job).state == "CANCELED" for job in v1_jobs.values())
    assert all(flink_rest.job(s.job_id).state == "RUNNING" for s in green)

    run.data.send("raw_scores", 200)  # after promotion, consumers read v2 only
    run.wait_complete(V2)
    served = run.deployer.serving_rows(INT)
    run.record(nothing_lost(run.data.acked("raw_scores"), served, "score_id",
                            sink=f"{INT} (serving)")).require()


def test_intermediate_update_rolled_back_leaves_v1_serving_everything(blue_green, flink_rest):
    run = blue_green
    plan, _green, _ = deploy_and_change(run, flink_rest)
    v1 = {name: s.job_id for name, s in run.deployer.statements.items() if name not in V2}

    with StatementWatcher(flink_rest, [run.deployer.statements[n] for n in v1]) as watcher:
        run.deployer.rollback(plan)
        send_some_of_everything(run, scores=300)
        run.wait_complete(V1)

    topics = set(run.deployer.admin.list_topics(timeout=10).topics)
    assert not {run.deployer.topic(t) for t in V2} & topics, "v2 tables still exist"
    assert not set(V2) & set(run.deployer.statements)
    assert {t: run.deployer.active[t] for t in V1} == {t: t for t in V1}
    assert_outputs_exact(run, V1)
    run.record(green_untouched(watcher.samples, v1)).require()
