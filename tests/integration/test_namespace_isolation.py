import psycopg
import pytest
from confluent_kafka.admin import AdminClient

from harness.stack import Namespace, namespace_name


@pytest.fixture
def two_namespaces(stack):
    first = Namespace(stack, namespace_name("first"))
    second = Namespace(stack, namespace_name("second"))
    yield first, second
    first.clean()
    second.clean()


def test_namespaces_do_not_see_each_others_data(postgres, kafka, two_namespaces):
    first, second = two_namespaces
    for ns, value in ((first, "one"), (second, "two")):
        ns.create_topic("events")
        with psycopg.connect(postgres.dsn) as conn:
            conn.execute(f'CREATE TABLE "{ns.schema}".t (v text)')
            conn.execute(f'INSERT INTO "{ns.schema}".t VALUES (%s)', (value,))
    assert first.topics() == [first.topic("events")]
    assert second.topics() == [second.topic("events")]
    with psycopg.connect(postgres.dsn) as conn:
        conn.execute(f'SET search_path TO "{first.schema}"')
        assert conn.execute("SELECT v FROM t").fetchall() == [("one",)]
        conn.execute(f'SET search_path TO "{second.schema}"')
        assert conn.execute("SELECT v FROM t").fetchall() == [("two",)]


def test_clean_removes_exactly_what_the_namespace_created(postgres, kafka, stack):
    keep = Namespace(stack, namespace_name("keep"))
    drop = Namespace(stack, namespace_name("drop"))
    try:
        keep.create_topic("t")
        drop.create_topic("t")
        schemas = (keep.schema, drop.schema)
        drop.clean()
        topics = AdminClient({"bootstrap.servers": kafka.bootstrap_servers}).list_topics(
            timeout=10).topics
        assert keep.topic("t") in topics
        assert drop.topic("t") not in topics
        with psycopg.connect(postgres.dsn) as conn:
            present = {r[0] for r in conn.execute(
                "SELECT schema_name FROM information_schema.schemata").fetchall()}
        assert schemas[0] in present
        assert schemas[1] not in present
    finally:
        keep.clean()
