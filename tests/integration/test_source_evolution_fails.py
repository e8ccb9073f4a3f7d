"""The source-evolution checks fail for real: a v2 that gives the rows written before the
migration another value than the column's DEFAULT."""

from functools import partial

from fixtures import factories
from fixtures.reference import ACCOUNTS, accounts_pipelines

POSTGRES = ACCOUNTS / "postgres"



wrong_default = factories.source_evolution(
    pipelines=partial(accounts_pipelines, change="mutant_tier_default"), from_ref="main",
    to_ref="mutant_tier_default",
    source_ddl=POSTGRES / "accounts.sql", migration=POSTGRES / "migrations" / "add_tier.sql",
    record_checks=False)


def test_old_rows_with_another_default_fail_added_columns_carried(wrong_default):
    outcome = wrong_default.run()
    failed = {c.name: c for c in outcome.failed}
    assert list(failed) == ["added_columns_carried(src_accounts_v2)"], list(failed)
    check = failed["added_columns_carried(src_accounts_v2)"]
    example = check.evidence["examples"][0]
    assert example["column"] == "tier" and example["expected"] == "standard"
    assert example["actual"] == "premium"
    assert check.evidence["wrong"] == check.evidence["rows_with_default"]
