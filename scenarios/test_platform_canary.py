"""Scenarios: the two runbooks as one platform.

The application writes scores into PostgreSQL all along. Debezium captures them, the
``platform`` product's statements aggregate them on Flink, and the fact lands in Iceberg.
The data tier's stable version computes the aggregate in PostgreSQL; its canary reads the
Iceberg fact: the migration the canary runbook rolls out. Before any traffic moves, the
parity gate compares the two backends by key at a source LSN; a lagging pipeline fails
it, with the differing keys, and the canary never takes a request.
"""

import time

import httpx

from fixtures import factories
from fixtures.canary import VALUES, scenario_policy
from fixtures.platform import (
    CHANGE,
    EVOLUTION,
    FACT,
    MIGRATION,
    TICKERS,
    platform_target,
    ticker_parity,
)
from harness.strategy.evolution_checks import carried_columns
from harness.wait import wait_until

lagging_canary = factories.canary(
    target=lambda request: platform_target(request.getfixturevalue("platform")),
    values=VALUES, policy=scenario_policy, name="data-tier", record_checks=False)
"""The platform's canary, its checks not recorded: the gate is meant to fail here."""


def gate_of(platform, canary, *, budget_s=30.0):
    return platform.gate([ticker_parity(platform, budget_s=budget_s)], hold=["scores"],
                         progress=canary.progress)


def test_the_canary_from_postgres_to_iceberg_passes_parity_and_is_promoted(
        platform, platform_canary, scenario):
    writes = platform.loops["scores"]
    # CDC commit → Iceberg row: a ticker no batch writes, seen in the Iceberg fact.
    committed = time.monotonic()
    platform.writers["scores"].insert([{"id": 10_000_000, "ticker": "zlat", "score": 0.5}])
    fact = platform.iceberg(FACT)
    wait_until(lambda: None if "ZLAT" in fact.read().column("ticker").to_pylist()
               else "not yet in Iceberg", timeout_s=60, what="a committed row in Iceberg",
               interval_s=0.2)
    latency = round(time.monotonic() - committed, 2)
    scenario.events.emit("figure", name="cdc_commit_to_iceberg_s", value=latency)

    platform_canary.gate = gate_of(platform, platform_canary)
    outcome = platform_canary.run()
    assert outcome.outcome == "promoted", outcome.summary()
    assert not outcome.failed, [c.summary for c in outcome.failed]
    (gate,) = scenario.events.of_kind("canary.gate")
    assert gate.details["ok"], gate.details["summary"]
    (parity,) = scenario.events.of_kind("parity")
    assert "agree" in parity.details["summary"]
    assert writes.batches > 0 and writes.error is None, "source writes kept flowing"


def test_a_lagging_pipeline_fails_parity_and_blocks_the_canary(platform, lagging_canary):
    with platform.loops["scores"].held():
        assert platform.settle() is None  # the fact caught up once; then its statement stops
    platform.parts.deployer.stop(FACT)
    batches = platform.loops["scores"].batches
    wait_until(lambda: None if platform.loops["scores"].batches >= batches + 5 else
               "writing", timeout_s=30, what="more source writes after the pause")

    lagging_canary.gate = gate_of(platform, lagging_canary, budget_s=6.0)
    started = time.monotonic()
    outcome = lagging_canary.run()
    assert outcome.outcome == "blocked", outcome.summary()
    assert outcome.decided_at_weight == 0
    assert time.monotonic() - started < 45, "fails once its budget is spent, not later"
    (check,) = outcome.checks
    assert check.name == "parity_ticker_sentiment" and not check.ok
    assert "unchanged in PostgreSQL" in check.summary, check.summary
    differing = {d["key"]["ticker"] for d in check.evidence["differences"]}
    assert differing and differing <= set(TICKERS), differing
    assert all(d["kind"] == "changed" for d in check.evidence["differences"])
    assert check.evidence["settled_keys"], "differing keys PostgreSQL left alone"
    assert "canary" not in lagging_canary.deployer.slots, "the canary never started"
    assert {o.slot for o in lagging_canary.load.snapshot()} == {"stable"}


class Serving:
    """The canary data tier serving half the reads, and what it reads."""

    def __init__(self, platform, run, scenario):
        self.platform, self.run, self.scenario = platform, run, scenario
        run.deployer.deploy("canary")
        run.router.set_weights({"stable": 50, "canary": 50})
        self.health = run.deployer.slots["canary"].url + "/health"

    def reads(self, table):
        def check():
            now = httpx.get(self.health, timeout=5).json().get("table", "")
            return None if now.endswith("." + table) else f"the canary reads {now}"
        wait_until(check, timeout_s=30, what=f"the canary data tier reading {table}",
                   interval_s=0.2)

    def parity(self):
        result = self.platform.gate([ticker_parity(self.platform)], hold=["scores"])()
        self.scenario.check(result).require()
        return result

    def every_request_answered(self):
        outcomes = self.run.load.snapshot()
        failed = [o for o in outcomes if not o.ok]
        assert failed == [], f"every read answered: {failed[:3]}"
        assert {o.slot for o in outcomes} == {"stable", "canary"}


def test_a_pipeline_promotion_and_its_rollback_switch_what_the_serving_canary_reads(
        platform, platform_canary, scenario):
    serving = Serving(platform, platform_canary, scenario)
    reads, parity = serving.reads, serving.parity
    reads(FACT)
    v1 = platform.model
    model, plan = platform.plan_to(CHANGE)
    assert [(r.table, r.new_name) for r in plan.redeploy] == [
        ("int_scored_tickers", "int_scored_tickers_v2"), (FACT, f"{FACT}_v2")]
    platform.deploy_change(model, plan)
    reads(FACT)  # v1 serves until promotion
    platform.promote(plan)
    reads(f"{FACT}_v2")
    promoted = parity()
    assert f"{FACT}_v2" in promoted.summary, "parity of the version the canary now reads"
    platform.rollback(plan, v1)
    reads(FACT)
    rolled_back = parity()
    assert f"{FACT}_v2" not in rolled_back.summary
    assert platform.loops["scores"].batches > 0 and platform.loops["scores"].error is None
    serving.every_request_answered()


def test_a_source_schema_evolution_while_the_canary_serves_from_iceberg(
        platform, platform_canary, scenario):
    serving = Serving(platform, platform_canary, scenario)
    writer = platform.writers["scores"]
    change = platform.evolve("scores", MIGRATION, lambda: writer.insert(
        [{"id": 20_000_000 + i, "ticker": TICKERS[i % 20], "score": 0.1, "scorer": "m2"}
         for i in range(40)]))
    assert change.compatibility == "FULL_TRANSITIVE"
    assert len(change.versions_after) == len(change.versions_before) + 1
    model, plan = platform.plan_to(EVOLUTION)
    assert [r.table for r in plan.redeploy] == ["src_scores", "int_scored_tickers", FACT]
    platform.deploy_change(model, plan)  # v2 reprocesses raw_scores from its earliest offset
    serving.reads(FACT)
    platform.promote(plan)
    serving.reads(f"{FACT}_v2")
    serving.parity()
    with platform.writes_held():
        assert platform.settle() is None
        rows = platform.parts.deployer.rows("src_scores_v2")
        carried = carried_columns(writer.ledger.live(), rows, key="id", sink="src_scores_v2",
                                  defaults={"scorer": "baseline"})
    scenario.check(carried).require()
    assert 0 < carried.evidence["rows_with_default"] < carried.evidence["rows"]
    assert {r["scorer"] for r in rows} == {"baseline", "m2"}
    serving.every_request_answered()
