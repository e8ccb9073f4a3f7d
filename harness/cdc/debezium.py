"""Debezium PostgreSQL connector configurations for the stack."""

from __future__ import annotations

import psycopg

from harness.stack.endpoint import PostgresEndpoint, SchemaRegistryEndpoint
from harness.wait import wait_until

AVRO_CONVERTER = "io.apicurio.registry.utils.converter.AvroConverter"


def replica_identity_full(schema: str, table: str) -> str:
    """The DDL that makes PostgreSQL log whole old rows for updates and deletes.

    Flink's Debezium formats need the "before" image of every update and delete; with
    PostgreSQL's default replica identity it is null and the statement fails.
    """
    return f'ALTER TABLE "{schema}"."{table}" REPLICA IDENTITY FULL'


def avro_converter(prefix: str, registry: SchemaRegistryEndpoint) -> dict[str, str]:
    """Converter settings that write the Confluent wire layout (magic byte, 4-byte id).

    Ids are content ids: what the registry's Confluent-compatible API serves, so Flink's
    ``avro-confluent`` formats find the schemas.
    """
    base = f"{prefix}.converter"
    return {
        base: AVRO_CONVERTER,
        f"{base}.apicurio.registry.url": registry.native_url,
        f"{base}.apicurio.registry.auto-register": "true",
        f"{base}.apicurio.registry.find-latest": "true",
        f"{base}.apicurio.registry.headers.enabled": "false",
        f"{base}.apicurio.registry.as-confluent": "true",
        f"{base}.apicurio.registry.use-id": "contentId",
    }


def postgres_connector(*, postgres: PostgresEndpoint, registry: SchemaRegistryEndpoint,
                       topic_prefix: str, tables: list[str], slot: str,
                       route_to: str = "") -> dict[str, str]:
    """A pgoutput connector capturing ``tables`` (``schema.table``) into
    ``<topic_prefix>.<schema>.<table>`` topics, Avro through the registry.

    ``route_to`` renames the topic of a single captured table (Connect's RegexRouter),
    e.g. to the raw topic name a pipeline expects.
    """
    routing = {} if not route_to else {
        "transforms": "route",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": ".*",
        "transforms.route.replacement": route_to,
    }
    return {
        **routing,
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "tasks.max": "1",
        "plugin.name": "pgoutput",
        "database.hostname": postgres.host,
        "database.port": str(postgres.port),
        "database.user": postgres.user,
        "database.password": "unused",  # trust authentication on the throwaway cluster
        "database.dbname": postgres.database,
        "topic.prefix": topic_prefix,
        "table.include.list": ",".join(tables),
        "slot.name": slot,
        "publication.name": f"pub_{slot}",
        "publication.autocreate.mode": "filtered",
        "snapshot.mode": "initial",
        "slot.drop.on.stop": "false",
        # The broker does not auto-create topics: Connect creates the CDC topics.
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
        **avro_converter("key", registry),
        **avro_converter("value", registry),
    }


def drop_slot(dsn: str, slot: str, *, timeout_s: float = 30.0) -> None:
    """Drop a connector's replication slot once the deleted connector has released it.

    The slot outlives its connector (``slot.drop.on.stop`` is off, as in production) and
    would keep WAL forever on a shared PostgreSQL.
    """
    def released() -> str | None:
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s",
                               (slot,)).fetchone()
        return None if row is None or not row[0] else "slot still in use"

    wait_until(released, timeout_s=timeout_s, what=f"replication slot {slot} released")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                     "WHERE slot_name = %s", (slot,))
