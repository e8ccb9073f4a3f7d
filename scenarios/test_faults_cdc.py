"""Fault scenarios of a CDC source: an offline migration while the Connect worker is
down, and a table that cannot be captured, refused before anything is deployed.
"""

import pytest

from fixtures import factories
from fixtures.reference import ACCOUNTS, accounts_pipelines
from harness.errors import ConfigError
from harness.faults.base import FaultSpec

POSTGRES = ACCOUNTS / "postgres"



offline = factories.source_evolution(
    pipelines=accounts_pipelines, from_ref="main", to_ref="accounts_add_tier",
    source_ddl=POSTGRES / "accounts.sql", migration=POSTGRES / "migrations" / "add_tier.sql",
    faults=[FaultSpec("process", "connect", "kill", at="migrating")])
keyless = factories.source_evolution(
    pipelines=accounts_pipelines, from_ref="main", to_ref="accounts_add_tier",
    source_ddl=POSTGRES / "mutants" / "accounts_without_primary_key.sql",
    migration=POSTGRES / "migrations" / "add_tier.sql", record_checks=False)


def test_a_migration_while_the_connector_is_down_reaches_v2_with_every_row(offline):
    """ADD COLUMN ... NOT NULL DEFAULT and the rows after it, all while Connect is down:
    Debezium reads them from its slot when it is back, under the new schema."""
    outcome = offline.run()
    print("figures:", outcome.figures)
    assert outcome.figures["faults_injected"] == 1
    assert outcome.outcome == "promoted"
    assert outcome.ok, [f"{c.name}: {c.summary}" for c in outcome.failed]
    checks = {c.name: c for c in outcome.checks}
    carried = checks["added_columns_carried(src_accounts_v2)"]
    assert 0 < carried.evidence["rows_with_default"] < carried.evidence["rows"]
    assert checks["nothing_lost(src_accounts_v2)"].ok


def test_a_table_without_a_primary_key_is_refused_before_anything_is_deployed(keyless):
    with pytest.raises(ConfigError, match=r"no primary key.*Add a PRIMARY KEY"):
        keyless.run()
    assert not keyless.parts.deployer.statements, "no statement was deployed"
    assert keyless.platform is None, "nothing was captured"
