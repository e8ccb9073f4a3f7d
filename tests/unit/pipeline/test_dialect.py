import pytest

from harness.errors import CutoverError
from harness.pipeline.dialect import (
    DialectError,
    KafkaTarget,
    adapt_ddl,
    adapt_ddl_detailed,
    topic_partitions,
)

REGISTRY = "http://127.0.0.1:8080/apis/ccompat/v7"
TARGET = KafkaTarget(bootstrap_servers="127.0.0.1:9092", schema_registry_url=REGISTRY)
NO_REGISTRY = KafkaTarget(bootstrap_servers="127.0.0.1:9092")

CONFLUENT = """CREATE TABLE IF NOT EXISTS int_x (
  id STRING, v DOUBLE, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
  PRIMARY KEY (id) NOT ENFORCED
) DISTRIBUTED BY HASH(id) INTO 3 BUCKETS
WITH (
  'changelog.mode' = 'upsert',          -- append | upsert | retract
  'key.format' = 'avro-registry',
  'value.format' = 'avro-registry',
  'kafka.cleanup-policy' = 'compact',
  'kafka.retention.time' = '0',
  'scan.startup.mode' = 'earliest-offset',
  'value.fields-include' = 'all'
);"""


def with_block(sql: str) -> str:
    """The WITH block the adaptation wrote (always the last one in these tests)."""
    return sql[sql.rindex("WITH (\n"):]


def options(sql: str) -> dict[str, str]:
    """Options of the adapted WITH block, parsed from its one-option-per-line layout."""
    pairs = {}
    for line in with_block(sql).splitlines()[1:-1]:
        key, value = line.strip().rstrip(",").split(" = ", 1)
        pairs[key[1:-1].replace("''", "'")] = value[1:-1].replace("''", "'")
    return pairs


def test_append_json_registry_maps_to_kafka_with_json():
    sql = adapt_ddl("CREATE TABLE clicks (id STRING, n INT)\n"
                    "WITH ('changelog.mode' = 'append', 'value.format' = 'json-registry')",
                    NO_REGISTRY)
    assert options(sql) == {
        "connector": "kafka", "topic": "clicks",
        "properties.bootstrap.servers": "127.0.0.1:9092",
        "scan.startup.mode": "earliest-offset", "format": "json",
        "properties.isolation.level": "read_committed"}
    assert sql.startswith("CREATE TABLE clicks (id STRING, n INT)\nWITH (\n")


def test_upsert_avro_registry_maps_to_upsert_kafka_with_registry_urls():
    result = adapt_ddl_detailed(CONFLUENT, TARGET)
    assert result.connector == "upsert-kafka"
    assert options(result.sql) == {
        "connector": "upsert-kafka", "topic": "int_x",
        "properties.bootstrap.servers": "127.0.0.1:9092",
        "properties.isolation.level": "read_committed",
        "key.format": "avro-confluent", "key.avro-confluent.url": REGISTRY,
        "value.format": "avro-confluent", "value.avro-confluent.url": REGISTRY,
        "value.fields-include": "ALL"}


@pytest.mark.parametrize(("written", "level"), [
    ("", "read_committed"), ("read-committed", "read_committed"),
    ("read-uncommitted", "read_uncommitted")])
def test_consumers_read_committed_records_unless_the_table_says_otherwise(written, level):
    """Confluent Cloud's default; open-source Kafka consumers would read aborted records."""
    option = f", 'kafka.consumer.isolation-level' = '{written}'" if written else ""
    result = adapt_ddl_detailed("CREATE TABLE clicks (id STRING)\nWITH ('changelog.mode' = "
                                f"'append', 'value.format' = 'json'{option})", NO_REGISTRY)
    assert options(result.sql)["properties.isolation.level"] == level
    assert "kafka.consumer.isolation-level" not in result.dropped_options


@pytest.mark.parametrize("mode", ["ignore", "log"])
def test_records_that_cannot_be_read_are_skipped_where_confluent_would_skip_them(mode):
    result = adapt_ddl_detailed("CREATE TABLE clicks (id STRING)\nWITH ('changelog.mode' = "
                                f"'append', 'value.format' = 'json-registry', "
                                f"'error-handling.mode' = '{mode}')", NO_REGISTRY)
    assert options(result.sql)["json.ignore-parse-errors"] == "true"
    assert "error-handling.mode" not in result.dropped_options
    assert ("no dead-letter table" in " ".join(result.warnings)) == (mode == "log")


def test_failing_on_bad_records_is_the_default_and_other_formats_say_they_cannot_skip():
    plain = adapt_ddl_detailed("CREATE TABLE clicks (id STRING) WITH ('changelog.mode' = "
                               "'append', 'value.format' = 'json')", NO_REGISTRY)
    assert "json.ignore-parse-errors" not in options(plain.sql)
    avro = adapt_ddl_detailed(CONFLUENT.replace("WITH (", "WITH (\n  'error-handling.mode' = "
                                                "'ignore',", 1), TARGET)
    assert any("cannot skip bad records" in w for w in avro.warnings), avro.warnings


def test_an_unknown_isolation_level_names_the_levels():
    with pytest.raises(DialectError, match=r"clicks.*'dirty'.*read-committed, read-uncommitted"):
        adapt_ddl("CREATE TABLE clicks (id STRING) WITH ('value.format' = 'json', "
                  "'kafka.consumer.isolation-level' = 'dirty')", NO_REGISTRY)


def test_whole_example_keeps_everything_but_distribution_and_options():
    sql = adapt_ddl(CONFLUENT, TARGET)
    head = CONFLUENT[:CONFLUENT.index(" DISTRIBUTED")]
    assert sql.startswith(head + "\nWITH (\n  'connector' = 'upsert-kafka',\n")
    assert sql.endswith("\n);")
    assert "DISTRIBUTED" not in sql and "BUCKETS" not in sql


def test_avro_registry_without_registry_names_the_fix():
    with pytest.raises(DialectError, match=r"int_x.*no.*json-registry.*schema registry"):
        adapt_ddl(CONFLUENT, NO_REGISTRY)


def test_dialect_error_is_a_cutover_error():
    assert issubclass(DialectError, CutoverError)


def test_primary_key_without_changelog_mode_maps_to_upsert_kafka():
    sql = adapt_ddl("CREATE TABLE t (id INT, PRIMARY KEY (id) NOT ENFORCED)\n"
                    "WITH ('key.format' = 'json-registry', 'value.format' = 'json-registry')",
                    NO_REGISTRY)
    assert options(sql)["connector"] == "upsert-kafka"
    assert options(sql)["key.format"] == options(sql)["value.format"] == "json"


def test_inline_primary_key_maps_to_upsert_kafka():
    result = adapt_ddl_detailed("CREATE TABLE t (id INT PRIMARY KEY NOT ENFORCED, s STRING) "
                                "WITH ('key.format' = 'raw', 'value.format' = 'json')",
                                NO_REGISTRY)
    assert result.connector == "upsert-kafka"
    assert options(result.sql)["key.format"] == "raw"


def test_retract_with_primary_key_maps_to_upsert_kafka_with_a_warning():
    result = adapt_ddl_detailed(
        "CREATE TABLE agg (k STRING, n BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ("
        "'changelog.mode' = 'retract', 'key.format' = 'json-registry', "
        "'value.format' = 'json-registry')", NO_REGISTRY)
    assert result.connector == "upsert-kafka"
    assert result.dropped_options == {"changelog.mode": "retract"}
    assert any("retract" in warning for warning in result.warnings)


def test_retract_without_primary_key_explains_the_fix():
    ddl = ("CREATE TABLE agg (k STRING, n BIGINT) WITH ('changelog.mode' = 'retract', "
           "'value.format' = 'json-registry')")
    with pytest.raises(DialectError, match=r"'agg'.*no retract changelog.*PRIMARY KEY"):
        adapt_ddl(ddl, TARGET)


def test_upsert_without_primary_key_names_table_and_fix():
    ddl = "CREATE TABLE latest (k STRING) WITH ('changelog.mode' = 'upsert')"
    with pytest.raises(DialectError, match=r"'latest'.*declare PRIMARY KEY"):
        adapt_ddl(ddl, TARGET)


def test_unknown_changelog_mode_is_refused():
    with pytest.raises(DialectError, match="append, upsert, retract"):
        adapt_ddl("CREATE TABLE t (k STRING) WITH ('changelog.mode' = 'diff')", TARGET)


def test_distributed_by_hash_is_removed_and_gives_partitions():
    result = adapt_ddl_detailed(CONFLUENT, TARGET)
    assert result.partitions == 3
    assert topic_partitions(CONFLUENT) == 3


@pytest.mark.parametrize(("clause", "partitions"), [
    ("DISTRIBUTED INTO 4 BUCKETS", 4),
    ("DISTRIBUTED BY (id) INTO 6 BUCKETS", 6),
    ("distributed by hash(`id`) into 2 buckets", 2),
    ("DISTRIBUTED BY (id)", None),
])
def test_distribution_shapes(clause, partitions):
    ddl = f"CREATE TABLE t (id STRING) {clause} WITH ('value.format' = 'json')"
    result = adapt_ddl_detailed(ddl, TARGET)
    assert result.partitions == partitions == topic_partitions(ddl)
    assert result.sql.startswith("CREATE TABLE t (id STRING) WITH (\n")


def test_no_with_clause_gets_one_with_confluent_default_formats():
    ddl = "CREATE TABLE t_minimal (s STRING) DISTRIBUTED INTO 4 BUCKETS;"
    result = adapt_ddl_detailed(ddl, TARGET)
    assert result.sql.startswith("CREATE TABLE t_minimal (s STRING)\nWITH (\n")
    assert result.sql.endswith("\n);")
    assert options(result.sql)["format"] == "avro-confluent"
    assert options(result.sql)["avro-confluent.url"] == REGISTRY
    assert result.partitions == 4


def test_already_open_source_ddl_is_left_alone():
    ddl = ("CREATE TABLE q (id BIGINT) DISTRIBUTED INTO 2 BUCKETS WITH ('connector' = 'kafka', "
           "'topic' = 'quotes', 'properties.bootstrap.servers' = 'x:1', 'format' = 'json')")
    result = adapt_ddl_detailed(ddl, NO_REGISTRY)
    assert result.sql == ddl
    assert (result.connector, result.topic, result.partitions) == ("kafka", "quotes", 2)


def test_comments_with_keywords_are_not_confused():
    ddl = ("CREATE TABLE t ( -- WITH ( 'connector' = 'x' ) DISTRIBUTED INTO 9 BUCKETS\n"
           "  id STRING /* WITH ( DISTRIBUTED BY (x) INTO 8 BUCKETS */,\n"
           "  PRIMARY KEY (id) NOT ENFORCED\n"
           ") /* trailing DISTRIBUTED */ WITH ('value.format' = 'raw', 'key.format' = 'raw')")
    result = adapt_ddl_detailed(ddl, NO_REGISTRY)
    assert result.partitions is None
    assert result.connector == "upsert-kafka"
    assert result.sql.startswith(ddl[:ddl.index("WITH ('value")])


def test_strings_and_computed_columns_are_kept_byte_identical():
    columns = ("CREATE TABLE `t` (\n"
               "  id STRING,\n"
               "  label AS CONCAT('it''s (', id, ') WITH (x)'),\n"
               "  `weird ``name`` (1)` AS COALESCE(id, 'DISTRIBUTED INTO 3 BUCKETS'),\n"
               "  ts AS TO_TIMESTAMP_LTZ(0, 3),\n"
               "  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND\n"
               ")")
    ddl = columns + " COMMENT 'a (table)' WITH ('value.format' = 'json')"
    sql = adapt_ddl(ddl, TARGET)
    assert sql.startswith(columns + " COMMENT 'a (table)' WITH (\n")
    assert topic_partitions(ddl) is None


@pytest.mark.parametrize("name", ["`cat`.`db`.`orders v2`", "cat.db.`orders v2`",
                                  "`orders v2`"])
def test_topic_is_the_last_part_of_the_name_unquoted(name):
    result = adapt_ddl_detailed(f"CREATE TABLE {name} (id STRING) WITH ('format' = 'json')",
                                TARGET)
    assert (result.table, result.topic) == ("orders v2", "orders v2")


def test_key_format_with_primary_key_on_append_table_sets_key_fields():
    result = adapt_ddl_detailed(
        "CREATE TABLE e (a STRING, b INT, v STRING, PRIMARY KEY (a, b) NOT ENFORCED) WITH ("
        "'changelog.mode' = 'append', 'key.format' = 'json-registry', "
        "'value.format' = 'json-registry')", NO_REGISTRY)
    opts = options(result.sql)
    assert opts["connector"] == "kafka"
    assert (opts["key.format"], opts["key.fields"], opts["value.format"]) == (
        "json", "a;b", "json")
    assert "format" not in opts
    assert any("rejects a PRIMARY KEY" in warning for warning in result.warnings)
    assert "PRIMARY KEY" not in result.sql  # kept as key.fields: the OSS connector refuses it


def test_a_column_primary_key_of_an_append_table_is_dropped_too():
    result = adapt_ddl_detailed(
        "CREATE TABLE e (a STRING PRIMARY KEY NOT ENFORCED, v STRING) WITH ("
        "'changelog.mode' = 'append', 'key.format' = 'json-registry', "
        "'value.format' = 'json-registry')", NO_REGISTRY)
    assert "PRIMARY KEY" not in result.sql and options(result.sql)["key.fields"] == "a"
    commented = adapt_ddl_detailed(
        "CREATE TABLE e (a STRING, v STRING,\n  -- more columns here\n  PRIMARY KEY(a) NOT "
        "ENFORCED) WITH ('changelog.mode' = 'append', 'key.format' = 'json-registry', "
        "'value.format' = 'json-registry')", NO_REGISTRY)
    assert "PRIMARY KEY" not in commented.sql


def test_distribution_columns_key_an_append_table():
    opts = options(adapt_ddl("CREATE TABLE e (a STRING) DISTRIBUTED BY (a) INTO 2 BUCKETS "
                             "WITH ('key.format' = 'raw', 'value.format' = 'json')", TARGET))
    assert (opts["connector"], opts["key.fields"]) == ("kafka", "a")


def test_key_format_without_key_columns_is_dropped():
    result = adapt_ddl_detailed("CREATE TABLE e (a STRING) WITH ('key.format' = 'raw', "
                                "'value.format' = 'json')", TARGET)
    assert options(result.sql)["format"] == "json"
    assert result.dropped_options == {"key.format": "raw"}


def test_confluent_only_options_are_dropped_and_listed():
    result = adapt_ddl_detailed(CONFLUENT, TARGET)
    assert result.dropped_options == {
        "changelog.mode": "upsert", "kafka.cleanup-policy": "compact",
        "kafka.retention.time": "0", "scan.startup.mode": "earliest-offset"}
    assert "kafka.cleanup-policy" not in result.sql


def test_unknown_options_pass_through_unchanged():
    result = adapt_ddl_detailed(
        "CREATE TABLE t (id STRING) WITH ('value.format' = 'json', "
        "'json.ignore-parse-errors' = 'true', 'confluent.x' = '1', "
        "'value.json-registry.wire-encoding' = 'x', 'sink.parallelism' = '2')", TARGET)
    assert result.passed_options == {"json.ignore-parse-errors": "true",
                                     "sink.parallelism": "2"}
    assert set(result.dropped_options) == {"confluent.x", "value.json-registry.wire-encoding"}
    assert options(result.sql)["json.ignore-parse-errors"] == "true"


def test_mixed_case_keys_and_quotes_in_values():
    result = adapt_ddl_detailed(
        "CREATE TABLE t (id STRING) WITH ('Changelog.Mode' = 'APPEND', "
        "'VALUE.FORMAT' = 'Json-Registry', 'x.note' = 'it''s')", TARGET)
    assert result.connector == "kafka"
    assert options(result.sql)["format"] == "json"
    assert result.dropped_options == {"Changelog.Mode": "APPEND"}
    assert "'x.note' = 'it''s'" in result.sql


def test_scan_startup_mode_kept_for_kafka_dropped_for_upsert_kafka():
    append = adapt_ddl("CREATE TABLE a (id STRING) WITH ('value.format' = 'json', "
                       "'scan.startup.mode' = 'latest-offset', 'scan.bounded.mode' = "
                       "'latest-offset')", TARGET)
    assert options(append)["scan.startup.mode"] == "latest-offset"
    assert options(append)["scan.bounded.mode"] == "latest-offset"
    upsert = adapt_ddl_detailed(
        "CREATE TABLE u (id STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ('key.format' = "
        "'raw', 'value.format' = 'json', 'scan.startup.mode' = 'latest-offset')", TARGET)
    assert "scan.startup" not in upsert.sql
    assert upsert.dropped_options == {"scan.startup.mode": "latest-offset"}


def test_target_startup_mode_is_the_default_for_kafka():
    target = KafkaTarget(bootstrap_servers="b:1", startup_mode="latest-offset")
    sql = adapt_ddl("CREATE TABLE a (id STRING) WITH ('value.format' = 'json')", target)
    assert options(sql)["scan.startup.mode"] == "latest-offset"


def test_topic_and_group_prefixes_are_applied():
    target = KafkaTarget(bootstrap_servers="b:1", topic_prefix="run7.",
                         group_prefix="run7-", schema_registry_url=REGISTRY)
    result = adapt_ddl_detailed("CREATE TABLE db.orders (id STRING) WITH ("
                                "'value.format' = 'avro-registry')", target)
    assert result.topic == "run7.orders"
    assert options(result.sql)["properties.group.id"] == "run7-orders"
    assert "properties.group.id" not in options(adapt_ddl(
        "CREATE TABLE o (id STRING) WITH ('value.format' = 'json')", TARGET))


def test_proto_registry_is_refused():
    with pytest.raises(DialectError, match=r"proto-registry.*not supported"):
        adapt_ddl("CREATE TABLE p (id STRING) WITH ('value.format' = 'proto-registry')", TARGET)


def test_unknown_format_lists_supported_ones():
    with pytest.raises(DialectError, match=r"'parquet'.*supported: .*avro-registry.*json-registry"):
        adapt_ddl("CREATE TABLE p (id STRING) WITH ('value.format' = 'parquet')", TARGET)


@pytest.mark.parametrize("statement", [
    "CREATE VIEW v AS SELECT * FROM t WITH (x)",
    "INSERT INTO t SELECT * FROM s DISTRIBUTED INTO 3 BUCKETS",
    "CREATE TEMPORARY VIEW v AS SELECT 1",
    "-- just a comment",
])
def test_other_statements_are_unchanged(statement):
    result = adapt_ddl_detailed(statement, TARGET)
    assert result.sql == statement
    assert result.connector == ""
    assert topic_partitions(statement) is None


def test_ctas_stops_at_the_query():
    ddl = ("CREATE TABLE s WITH ('value.format' = 'json') AS "
           "WITH x AS (SELECT 1 AS a) SELECT * FROM x")
    sql = adapt_ddl(ddl, TARGET)
    assert sql.startswith("CREATE TABLE s WITH (\n  'connector' = 'kafka',")
    assert sql.endswith(") AS WITH x AS (SELECT 1 AS a) SELECT * FROM x")


def test_leading_comment_and_or_replace():
    ddl = "-- header\nCREATE OR REPLACE TABLE t (id STRING) WITH ('value.format' = 'json')"
    assert adapt_ddl(ddl, TARGET).startswith("-- header\nCREATE OR REPLACE TABLE t (id STRING) "
                                             "WITH (\n  'connector' = 'kafka',")


@pytest.mark.parametrize(("ddl", "message"), [
    ("CREATE TABLE t (id STRING) WITH ('a' = 'b", "unterminated"),
    ("CREATE TABLE t (id STRING WITH ('a' = 'b')", "unbalanced"),
    ("CREATE TABLE t (id STRING) WITH (a = 'b')", "quote option keys"),
    ("CREATE TABLE t (id STRING) WITH ('a' = '1', 'A' = '2')", "given twice"),
])
def test_malformed_statements_name_the_problem(ddl, message):
    with pytest.raises(DialectError, match=message):
        adapt_ddl(ddl, TARGET)


def test_rowtime_and_json_registry_warnings():
    result = adapt_ddl_detailed(
        "CREATE TABLE t (id STRING, WATERMARK FOR $rowtime AS $rowtime) "
        "WITH ('value.format' = 'json-registry')", TARGET)
    assert any("$rowtime" in warning for warning in result.warnings)
    assert any("plain json" in warning for warning in result.warnings)


def test_debezium_avro_cdc_table_reads_the_changelog_through_the_registry():
    ddl = ("CREATE TABLE raw_accounts (id INT, owner STRING) WITH ("
           "'changelog.mode' = 'retract', 'key.format' = 'avro-registry', "
           "'value.format' = 'avro-debezium-registry')")
    adapted = adapt_ddl_detailed(ddl, KafkaTarget("127.0.0.1:9092", topic_prefix="ns.",
                                                  schema_registry_url="http://r/ccompat/v7"))
    assert adapted.connector == "kafka"
    assert "'format' = 'debezium-avro-confluent'" in adapted.sql
    assert "'debezium-avro-confluent.url' = 'http://r/ccompat/v7'" in adapted.sql
    assert "key.format" not in adapted.sql
    assert adapted.warnings == []


def test_debezium_cdc_table_without_a_registry_is_a_clear_error():
    ddl = "CREATE TABLE raw_x (id INT) WITH ('value.format' = 'avro-debezium-registry')"
    with pytest.raises(DialectError, match="needs a schema registry"):
        adapt_ddl_detailed(ddl, KafkaTarget("127.0.0.1:9092"))


def test_rowtime_is_declared_as_the_record_timestamp_where_a_statement_reads_it():
    from harness.pipeline.dialect import with_rowtime

    adapted = adapt_ddl_detailed(
        "-- a comment\nCREATE TABLE IF NOT EXISTS t (a STRING, PRIMARY KEY (a) NOT ENFORCED) "
        "WITH ('changelog.mode' = 'upsert', 'key.format' = 'json-registry', "
        "'value.format' = 'json-registry')", NO_REGISTRY)
    sql = with_rowtime(adapted.sql)
    assert "CREATE TABLE IF NOT EXISTS t (`$rowtime` TIMESTAMP_LTZ(3) METADATA FROM " \
           "'timestamp' VIRTUAL, a STRING" in sql
    assert with_rowtime(sql) == sql


def test_an_avro_table_with_a_local_zoned_timestamp_is_written_as_json_on_the_stack():
    result = adapt_ddl_detailed(CONFLUENT.replace("ts TIMESTAMP(3)", "ts TIMESTAMP_LTZ(3)"),
                                TARGET)
    opts = options(result.sql)
    assert (opts["key.format"], opts["value.format"]) == ("json", "json")
    assert any("cannot write TIMESTAMP_LTZ" in w for w in result.warnings)
