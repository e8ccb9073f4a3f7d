"""Scenarios: schema evolution of a CDC source from the team's own files (runbook Fig. 5).

The team gives its PostgreSQL DDL and a migration file; cutover creates the table,
captures it, deploys the product at ``main``, migrates the table under FULL_TRANSITIVE,
writes rows with real values of the new column, and deploys the branch's v2 of the
source statement and its descendants beside v1.
"""

from fixtures import factories
from fixtures.reference import ACCOUNTS, accounts_pipelines

POSTGRES = ACCOUNTS / "postgres"



evolution = factories.source_evolution(
    pipelines=accounts_pipelines, from_ref="main", to_ref="accounts_add_tier",
    source_ddl=POSTGRES / "accounts.sql", migration=POSTGRES / "migrations" / "add_tier.sql")
refused = factories.source_evolution(
    pipelines=accounts_pipelines, from_ref="main", to_ref="accounts_add_tier",
    source_ddl=POSTGRES / "accounts.sql",
    migration=POSTGRES / "migrations" / "retype_balance.sql", record_checks=False)


def test_an_added_column_reaches_v2_with_its_default_and_its_values(evolution):
    outcome = evolution.run()
    assert outcome.outcome == "promoted"
    assert outcome.ok, [f"{c.name}: {c.summary}" for c in outcome.failed]
    checks = {c.name: c for c in outcome.checks}
    carried = checks["added_columns_carried(src_accounts_v2)"]
    assert carried.evidence["compared"] == ["tier"]
    assert 0 < carried.evidence["rows_with_default"] < carried.evidence["rows"], \
        "old rows carry the default, new and updated rows their values"
    assert checks["nothing_lost(src_accounts_v2)"].ok
    assert checks["same_keys_as_v1(fct_owner_balance_v2)"].ok
    assert checks["schema_change_compatible"].evidence["versions"] == [1, 2]


def test_an_incompatible_migration_is_refused_before_any_v2_is_deployed(refused):
    outcome = refused.run()
    assert outcome.outcome == "refused"
    failed = {c.name: c for c in outcome.failed}
    assert list(failed) == ["schema_change_compatible"]
    assert "FULL_TRANSITIVE" in failed["schema_change_compatible"].summary
    assert {c.name for c in outcome.checks if c.ok} >= {"nothing_of_v2_deployed", "settled_v1"}
