"""Scenario: the platform is ready for a deployment run.

Before any blue/green or canary step, the runbooks assume a transactional source whose
changes can be captured (PostgreSQL with logical decoding) and a Kafka cluster that takes
keyed records exactly once per producer session. This scenario proves both on the stack
the later scenarios share: a logical replication slot sees a committed row, and an
idempotent producer's records all arrive once.

The blue/green and canary scenarios of the reference suite build on this one.
"""

import psycopg
from confluent_kafka import Consumer, Producer


def test_source_changes_are_capturable_through_a_logical_slot(postgres, namespace):
    slot = f"slot_{namespace.name}"
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{namespace.schema}".accounts (id int PRIMARY KEY, '
                     "owner text)")
        conn.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (slot,))
        try:
            conn.execute(f'INSERT INTO "{namespace.schema}".accounts VALUES (1, %s)', ("ada",))
            changes = [row[0] for row in conn.execute(
                "SELECT data FROM pg_logical_slot_get_changes(%s, NULL, NULL)", (slot,))]
        finally:
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    inserts = [c for c in changes if c.startswith(f"table {namespace.schema}.accounts: INSERT")]
    assert len(inserts) == 1, changes
    assert "owner[text]:'ada'" in inserts[0]


def test_keyed_records_arrive_exactly_once(kafka, namespace):
    topic = namespace.create_topic("raw_events", partitions=2)
    producer = Producer({"bootstrap.servers": kafka.bootstrap_servers,
                         "enable.idempotence": True, "acks": "all"})
    for i in range(1000):
        producer.produce(topic, key=str(i).encode(), value=b"{}")
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": kafka.bootstrap_servers,
                         "group.id": namespace.group("check"), "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    keys = []
    try:
        idle = 0
        while len(keys) < 1000 and idle < 20:
            batch = consumer.consume(500, timeout=1.0)
            idle = 0 if batch else idle + 1
            keys += [m.key() for m in batch if m.error() is None]
    finally:
        consumer.close()
    assert sorted(keys) == sorted(str(i).encode() for i in range(1000))
