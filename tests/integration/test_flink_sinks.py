"""A statement submitted through the SQL Gateway keeps upsert sinks exact."""

import pytest

from harness.bench_quotes import (
    create_pipeline,
    iceberg_matches,
    latest,
    produce,
    records_with_updates,
    upsert_topic_matches,
)
from harness.flink import StatementError
from harness.wait import wait_until


def test_upsert_sinks_hold_one_latest_row_per_key(kafka, iceberg, flink_sql, flink_rest,
                                                  namespace):
    pipeline = create_pipeline(flink_sql, namespace, kafka, iceberg)
    flink_sql.submit(pipeline.statement, rest=flink_rest)
    records = records_with_updates(range(18_000), 2_000, seed=7)
    assert len(records) == 20_000
    produce(kafka, pipeline.source, records)
    expected = latest(records)

    wait_until(upsert_topic_matches(kafka, pipeline.upsert_topic, expected), timeout_s=120,
               what="upsert-kafka sink with the latest value of every key")
    wait_until(iceberg_matches(iceberg, pipeline.iceberg_identifier, expected), timeout_s=120,
               what="Iceberg table with exactly one latest row per key")
    assert flink_rest.job(pipeline.statement.job_id).state == "RUNNING"
    assert flink_rest.restarts(pipeline.statement.job_id) == 0


def test_stop_with_savepoint_and_resume_loses_nothing_and_duplicates_nothing(
        kafka, iceberg, flink, flink_sql, flink_rest, namespace):
    pipeline = create_pipeline(flink_sql, namespace, kafka, iceberg)
    flink_sql.submit(pipeline.statement, rest=flink_rest)
    first = records_with_updates(range(5_000), 500, seed=1)
    produce(kafka, pipeline.source, first)
    wait_until(iceberg_matches(iceberg, pipeline.iceberg_identifier, latest(first)),
               timeout_s=120, what="first batch in Iceberg")

    savepoint = flink_rest.stop_with_savepoint(pipeline.statement.job_id, flink.savepoint_dir)
    # Written while the statement is stopped: must arrive after the resume, exactly once.
    second = records_with_updates(range(4_000, 9_000), 1_000, seed=2, version=3)
    produce(kafka, pipeline.source, second)

    flink_sql.execute(f"SET 'execution.savepoint.path' = '{savepoint}'")
    resumed = flink_sql.submit(type(pipeline.statement)("resumed", pipeline.statement.sql),
                               rest=flink_rest)
    flink_sql.execute("RESET 'execution.savepoint.path'")
    expected = latest(first + second)
    wait_until(iceberg_matches(iceberg, pipeline.iceberg_identifier, expected),
               timeout_s=120, what="both batches in Iceberg, one row per key")
    wait_until(upsert_topic_matches(kafka, pipeline.upsert_topic, expected), timeout_s=60,
               what="both batches in the upsert topic")
    assert resumed.job_id != pipeline.statement.job_id
    assert flink_rest.job(resumed.job_id).state == "RUNNING"


def test_sql_error_returns_flinks_message_and_starts_no_job(flink_sql, flink_rest):
    jobs_before = {j.job_id for j in flink_rest.jobs()}
    with pytest.raises(StatementError) as err:
        flink_sql.execute("INSERT INTO nowhere SELEC id FROM nothing")
    assert "SqlParserException" in str(err.value)
    assert "SQL parse failed" in err.value.flink_message
    assert {j.job_id for j in flink_rest.jobs()} == jobs_before


def test_statement_reading_a_missing_table_fails_clearly(flink_sql, flink_rest):
    flink_sql.execute("CREATE TABLE sink (id INT) WITH ('connector' = 'blackhole')")
    jobs_before = {j.job_id for j in flink_rest.jobs()}
    with pytest.raises(StatementError) as err:
        flink_sql.execute("INSERT INTO sink SELECT id FROM missing_table")
    assert "ValidationException" in str(err.value)
    assert "Object 'missing_table' not found" in str(err.value)
    assert {j.job_id for j in flink_rest.jobs()} == jobs_before
