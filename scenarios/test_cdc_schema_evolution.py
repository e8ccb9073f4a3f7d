"""Scenario: schema evolution of a transactional source (runbook, Fig. 5).

The CDC source gains a column (with a default, FULL_TRANSITIVE compatible). The CDC topic
then holds records of both schema versions; the source statement is changed to read both,
and is redeployed as v2 from the earliest offset together with every descendant, while
writes continue and v1 keeps serving until promotion. An incompatible change is refused
by the registry and nothing is deployed.
"""

import pytest

from harness.cdc.evolution import SchemaEvolutionRejected, evolve_source
from harness.checks import StatementWatcher, green_untouched, no_duplicates, nothing_lost
from harness.wait import wait_until

V1 = ("src_accounts", "fct_owner_balance")
V2 = ("src_accounts_v2", "fct_owner_balance_v2")
ADD_TIER = "ALTER TABLE {table} ADD COLUMN tier text NOT NULL DEFAULT 'standard'"


def deploy_v1(run):
    run.insert(300)
    run.deployer.deploy(run.model)
    run.wait_complete(*V1)


def test_added_column_is_read_by_v2_of_the_source_and_its_descendants(cdc_run, flink_rest,
                                                                      scenario):
    run = cdc_run
    deploy_v1(run)
    table = run.writer.target.as_string(run.writer.conn)
    change = evolve_source(
        alter=lambda: run.writer.execute(ADD_TIER.format(table=table)),
        write_rows=lambda: (run.insert(100, tier="gold"),
                            run.writer.update([{"id": i, "tier": "gold"}
                                               for i in range(0, 300, 30)])),
        registry=run.registry, subject=run.value_subject, connect=run.connect,
        connector=run.connector, events=run.events)
    assert change.compatibility == "FULL_TRANSITIVE"
    assert len(change.versions_after) == len(change.versions_before) + 1
    assert len(run.schema_ids()) >= 2, "the CDC topic carries both schema versions"

    plan = run.plan_from_branch("accounts_add_tier")
    assert [(r.table, r.new_name) for r in plan.redeploy] == list(zip(V1, V2, strict=True))
    v1 = [run.deployer.statements[name] for name in V1]
    with StatementWatcher(flink_rest, v1) as watcher:
        writes = run.keep_writing()
        run.deployer.deploy_plan(run.target_model, plan)
        wait_until(lambda: run.caught_up_to(V2[0], 400), timeout_s=120,
                   what="v2 reprocessing the topic from its earliest offset while writes go on")
        run.stop_writing(writes)
        run.wait_complete(*V2)
        run.wait_complete(*V1)  # v1 unaffected: still serving every row

    rows = run.deployer.rows(V2[0])
    expected = run.expected()
    for result in (no_duplicates(rows, "id", sink=V2[0]),
                   no_duplicates(run.deployer.rows(V2[1]), "owner", sink=V2[1]),
                   nothing_lost(expected, rows, "id", sink=V2[0]),
                   green_untouched(watcher.samples, {s.name: s.job_id for s in v1})):
        scenario.check(result).require()
    wrong_tier = [r for r in rows if r["tier"] != expected[r["id"]]["tier"]]
    assert wrong_tier == [], f"old rows carry the default, new rows their value: {wrong_tier[:3]}"
    assert {r["tier"] for r in rows} == {"standard", "gold", "silver"}

    run.deployer.promote(plan)
    assert [run.deployer.active[t] for t in V1] == list(V2)
    run.insert(50, tier="gold")
    run.wait_complete(*V2)


def test_incompatible_source_change_is_refused_and_nothing_is_deployed(cdc_run, flink_rest):
    run = cdc_run
    deploy_v1(run)
    table = run.writer.target.as_string(run.writer.conn)
    statements_before = dict(run.deployer.statements)
    with pytest.raises(SchemaEvolutionRejected, match="Incompatible") as refused:
        evolve_source(
            alter=lambda: run.writer.execute(
                f"ALTER TABLE {table} ALTER COLUMN balance TYPE text"),
            write_rows=lambda: run.insert(5),
            registry=run.registry, subject=run.value_subject, connect=run.connect,
            connector=run.connector, events=run.events)
    assert "FULL_TRANSITIVE" in str(refused.value)
    assert run.registry.versions(run.value_subject) == [1]
    assert run.deployer.statements == statements_before
    assert all(flink_rest.job(s.job_id).state == "RUNNING" for s in statements_before.values())
