"""Pure parts of a source evolution: which raw table each PostgreSQL table feeds, and the
check that added columns are carried."""

from __future__ import annotations

import pytest

from fixtures.reference import ACCOUNTS, PIPELINES
from harness.errors import ConfigError
from harness.pipeline.loader import load_pipeline
from harness.strategy.evolution_checks import carried_columns
from harness.strategy.source_evolution import cdc_tables, map_captures


def test_raw_tables_are_matched_by_name_or_given():
    model = load_pipeline(ACCOUNTS / "pipelines")
    assert cdc_tables(model) == ["raw_accounts"]
    assert map_captures(model, ["accounts"], {}) == {"raw_accounts": "accounts"}
    assert map_captures(model, ["ledger"], {}) == {"raw_accounts": "ledger"}, "the only pair"
    assert map_captures(model, ["ledger", "users"], {"raw_accounts": "users"}) == {
        "raw_accounts": "users"}
    with pytest.raises(ConfigError, match="pass --cdc RAW=TABLE"):
        map_captures(model, ["ledger", "users"], {})
    with pytest.raises(ConfigError, match="--cdc raw_x=users"):
        map_captures(model, ["users"], {"raw_x": "users"})


def test_a_product_without_cdc_sources_is_named():
    with pytest.raises(ConfigError, match="nothing is fed by CDC"):
        map_captures(load_pipeline(PIPELINES / "sentiment" / "pipelines"), ["t"], {})


LEDGER = {1: {"id": 1, "owner": "a"}, 2: {"id": 2, "owner": "b", "tier": "gold"}}


def test_carried_columns_pass_with_default_for_old_rows_and_values_for_new():
    rows = [{"id": 1, "tier": "standard"}, {"id": 2, "tier": "gold"}]
    result = carried_columns(LEDGER, rows, key="id", sink="src_v2",
                             defaults={"tier": "standard"})
    assert result.ok and result.evidence["rows_with_default"] == 1


def test_carried_columns_fail_with_the_row_and_both_values():
    rows = [{"id": 1, "tier": "premium"}, {"id": 2, "tier": "gold"}]
    result = carried_columns(LEDGER, rows, key="id", sink="src_v2",
                             defaults={"tier": "standard"})
    assert not result.ok
    assert result.evidence["examples"] == [
        {"key": 1, "column": "tier", "expected": "standard", "actual": "premium"}]


def test_a_column_the_statement_does_not_output_is_named_not_compared():
    result = carried_columns(LEDGER, [{"id": 1}], key="id", sink="src_v2",
                             defaults={"tier": "standard"})
    assert result.ok and result.evidence["not_output"] == ["tier"]
    assert "not compared: ['tier']" in result.summary


@pytest.fixture
def accounts_repo(tmp_path):
    from fixtures.reference import product_repository

    return product_repository(tmp_path, product=ACCOUNTS,
                              changes=["accounts_add_tier"]) / "pipelines"


POSTGRES = ACCOUNTS / "postgres"


def verify(repo, *extra):
    from harness.cli import main

    return main(["verify", "bluegreen", str(repo), "--from", "main", "--to",
                 "accounts_add_tier", *extra])


def test_cli_bad_inputs_exit_2_before_anything_starts(accounts_repo, tmp_path, capsys):
    migration = str(POSTGRES / "migrations" / "add_tier.sql")
    assert verify(accounts_repo, "--source-migration", migration) == 2
    assert "--source-migration needs --source-ddl FILE" in capsys.readouterr().err
    mixed = tmp_path / "mixed.sql"
    mixed.write_text("ALTER TABLE accounts ADD COLUMN t text DEFAULT 'a'; DELETE FROM accounts")
    assert verify(accounts_repo, "--source-ddl", str(POSTGRES / "accounts.sql"),
                  "--source-migration", str(mixed)) == 2
    assert "DELETE ... is not ALTER TABLE" in capsys.readouterr().err
    assert verify(accounts_repo, "--source-ddl", str(POSTGRES / "accounts.sql"),
                  "--source-migration", migration, "--cdc", "raw_accounts") == 2
    assert "give RAW_TABLE=POSTGRES_TABLE" in capsys.readouterr().err
    assert verify(accounts_repo, "--cdc", "raw_accounts=accounts") == 2
    assert "belong to --source-migration" in capsys.readouterr().err
    assert verify(accounts_repo, "--source-ddl", str(POSTGRES / "accounts.sql"),
                  "--source-migration", migration, "--then", "promote-rollback") == 2
    assert "ends with promote or rollback" in capsys.readouterr().err
    assert verify(accounts_repo, "--source-ddl", str(POSTGRES / "accounts.sql"),
                  "--source-migration", migration, "--iceberg-sinks", "fact") == 2
    assert "--iceberg-sinks cannot be combined" in capsys.readouterr().err


def test_an_expression_default_is_named_not_compared():
    result = carried_columns(LEDGER, [{"id": 1, "tier": "x", "at": "2024"}], key="id",
                             sink="src_v2", defaults={"tier": "x"}, not_comparable=["at"])
    assert result.ok and "DEFAULT is an expression, not compared: ['at']" in result.summary
