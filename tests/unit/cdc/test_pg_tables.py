"""Pure parts of the user's PostgreSQL files: migrations, defaults, types."""

from __future__ import annotations

import pytest

from harness.cdc.pg_tables import PgColumn, PgTable, literal_default, migration_statements
from harness.errors import ConfigError


def test_a_migration_holds_alter_table_statements_only(tmp_path):
    good = tmp_path / "V7__tier.sql"
    good.write_text("-- add a tier\nALTER TABLE accounts ADD COLUMN tier text DEFAULT 'a;b';\n"
                    "alter table accounts add column score int default 0;")
    statements = migration_statements(good)
    assert len(statements) == 2 and "'a;b'" in statements[0], statements
    bad = tmp_path / "mixed.sql"
    bad.write_text("ALTER TABLE a ADD COLUMN b int DEFAULT 0; INSERT INTO a VALUES (1)")
    with pytest.raises(ConfigError, match=r"INSERT \.\.\. is not ALTER TABLE"):
        migration_statements(bad)
    with pytest.raises(ConfigError, match="no such file"):
        migration_statements(tmp_path / "missing.sql")
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing\n")
    with pytest.raises(ConfigError, match="holds no statement"):
        migration_statements(empty)


def test_defaults_as_old_rows_read_them():
    def col(default):
        return PgColumn("c", "text", True, default)
    assert literal_default(col("'standard'::text")) == "standard"
    assert literal_default(col("'it''s'::character varying")) == "it's"
    assert literal_default(col("0")) == 0 and literal_default(col("1.5")) == 1.5
    assert literal_default(col("true")) is True and literal_default(col(None)) is None


def test_columns_in_flink_types_and_an_unsupported_type_named():
    table = PgTable("s", "t", (PgColumn("id", "integer", False, None),
                               PgColumn("at", "timestamp with time zone", True, None)), "id")
    assert [(c.name, c.type) for c in table.flink_columns()] == [
        ("id", "INT"), ("at", "TIMESTAMP_LTZ(3)")]
    odd = PgTable("s", "t", (PgColumn("shape", "polygon", True, None),), "id")
    with pytest.raises(ConfigError, match=r"t\.shape is polygon"):
        odd.flink_columns()


def test_the_table_an_alter_statement_alters():
    from harness.cdc.pg_tables import altered_table

    assert altered_table("ALTER TABLE accounts ADD COLUMN t text") == "accounts"
    assert altered_table("alter table only IF EXISTS app.Accounts add column t int") == \
        "accounts"
    assert altered_table('ALTER TABLE "App"."My ""T""" ADD COLUMN t int') == 'My "T"'


def test_a_default_is_constant_unless_it_is_an_expression():
    from harness.cdc.pg_tables import constant_default

    def col(default):
        return PgColumn("c", "text", True, default)
    assert constant_default(col("'standard'::text")) and constant_default(col(None))
    assert constant_default(col("NULL::text")) and literal_default(col("NULL::text")) is None
    assert not constant_default(col("now()")) and not constant_default(col("CURRENT_DATE"))
