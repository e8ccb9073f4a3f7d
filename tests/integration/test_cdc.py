"""CDC from PostgreSQL through Debezium and the registry into a Flink statement."""

import psycopg
import pytest

from harness.cdc.connect import ConnectClient
from harness.cdc.debezium import drop_slot, postgres_connector, replica_identity_full
from harness.data.postgres_writer import PostgresWriter
from harness.flink import Statement
from harness.readers import read_topic
from harness.wait import wait_until

ROWS = 1000


@pytest.fixture
def cdc(stack, postgres, kafka, flink, namespace):
    registry = stack.endpoint("registry")
    connect = ConnectClient(stack.endpoint("connect").url)
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{namespace.schema}".accounts (id int PRIMARY KEY, '
                     "owner text NOT NULL, balance double precision NOT NULL)")
        conn.execute(replica_identity_full(namespace.schema, "accounts"))
    name = f"{namespace.name}-pg"
    config = postgres_connector(postgres=postgres, registry=registry,
                                topic_prefix=namespace.topic("cdc"),
                                tables=[f"{namespace.schema}.accounts"],
                                slot=f"slot_{namespace.name}")
    connect.put(name, config)
    topic = f"{namespace.topic('cdc')}.{namespace.schema}.accounts"
    writer = PostgresWriter(postgres.dsn, namespace.schema, "accounts", key="id")
    yield connect, name, topic, writer, registry
    writer.close()
    connect.delete(name)
    connect.close()
    drop_slot(postgres.dsn, f"slot_{namespace.name}")


def _mirror(flink_sql, flink_rest, kafka, registry, namespace, topic):
    sink = namespace.create_topic("accounts_latest")
    flink_sql.execute(f"""
        CREATE TABLE accounts_cdc (id INT, owner STRING, balance DOUBLE)
        WITH ('connector' = 'kafka', 'topic' = '{topic}',
              'properties.bootstrap.servers' = '{kafka.bootstrap_servers}',
              'scan.startup.mode' = 'earliest-offset',
              'format' = 'debezium-avro-confluent',
              'debezium-avro-confluent.url' = '{registry.ccompat_url}')""")
    flink_sql.execute(f"""
        CREATE TABLE accounts_latest (id INT, owner STRING, balance DOUBLE,
                                      PRIMARY KEY (id) NOT ENFORCED)
        WITH ('connector' = 'upsert-kafka', 'topic' = '{sink}',
              'properties.bootstrap.servers' = '{kafka.bootstrap_servers}',
              'key.format' = 'json', 'value.format' = 'json')""")
    flink_sql.submit(Statement("mirror", "INSERT INTO accounts_latest SELECT * FROM "
                                         "accounts_cdc"), rest=flink_rest)
    return sink


def _matches(kafka, sink, writer):
    def check():
        view = {v["id"]: v for v in read_topic(kafka.bootstrap_servers, sink)
                .upsert_view().values()}
        expected = writer.ledger.live()
        if view == expected:
            return None
        return f"{len(view)} rows in the sink, {len(expected)} live in PostgreSQL"
    return check


def test_inserts_updates_deletes_reach_flink_through_the_registry(
        cdc, kafka, flink_sql, flink_rest, namespace):
    _connect, _, topic, writer, registry = cdc
    writer.insert([{"id": i, "owner": f"owner-{i}", "balance": float(i)}
                   for i in range(ROWS)])
    writer.update([{"id": i, "balance": i * 2.0} for i in range(0, ROWS, 10)])
    writer.delete(range(0, ROWS, 25))
    sink = _mirror(flink_sql, flink_rest, kafka, registry, namespace, topic)
    wait_until(_matches(kafka, sink, writer), timeout_s=120,
               what="every committed row, latest version, deletes applied")
    first = read_topic(kafka.bootstrap_servers, topic, decode=bytes).records[0][1]
    assert first[:1] == b"\x00", "CDC records use the registry's wire format"


def test_rows_written_while_the_connector_is_down_arrive_once(
        cdc, kafka, flink_sql, flink_rest, namespace):
    connect, name, topic, writer, registry = cdc
    writer.insert([{"id": i, "owner": "a", "balance": 1.0} for i in range(200)])
    sink = _mirror(flink_sql, flink_rest, kafka, registry, namespace, topic)
    wait_until(_matches(kafka, sink, writer), timeout_s=120, what="first rows")

    connect.pause(name)
    writer.insert([{"id": i, "owner": "b", "balance": 2.0} for i in range(200, 500)])
    writer.update([{"id": i, "owner": "c"} for i in range(0, 200, 3)])
    connect.resume(name)
    connect.restart(name)
    wait_until(_matches(kafka, sink, writer), timeout_s=120,
               what="rows written during the downtime")
    keys = [k for k, v in read_topic(kafka.bootstrap_servers, sink).records if v is not None]
    assert len(set(keys)) == 500
