"""Namespace: what isolates one test or scenario on a shared stack.

A namespace owns a Kafka topic prefix (and consumer-group prefix) and a PostgreSQL schema.
It creates them lazily, so a test that needs only PostgreSQL never starts Kafka, and
:meth:`clean` removes exactly what it created.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import psycopg
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from harness.errors import CutoverError
from harness.stack.endpoint import IcebergEndpoint, KubernetesEndpoint
from harness.stack.stack import Stack

_UNSAFE = re.compile(r"[^a-z0-9_]+")
MAX_NAME = 40


def namespace_name(hint: str) -> str:
    """A short, unique, identifier-safe name from a hint such as a test name."""
    base = _UNSAFE.sub("_", hint.lower()).strip("_")[: MAX_NAME - 8] or "ns"
    return f"{base}_{secrets.token_hex(3)}"


class Namespace:
    """Topic prefix, consumer-group prefix and PostgreSQL schema of one test."""

    def __init__(self, stack: Stack, name: str) -> None:
        self.stack = stack
        self.name = name
        self._schema_created = False
        self._topics_used = False
        self._iceberg_created = False
        self._kube_used = False

    @property
    def topic_prefix(self) -> str:
        """Prefix of this namespace's topics and groups; whoever asks may create topics,
        so cleanup will look for them."""
        self._topics_used = True
        return f"{self.name}."

    def topic(self, name: str) -> str:
        """The namespaced name of a topic."""
        return self.topic_prefix + name

    def group(self, name: str) -> str:
        """The namespaced id of a consumer group."""
        return self.topic_prefix + name

    @property
    def schema(self) -> str:
        """The namespace's PostgreSQL schema; created on first use."""
        if not self._schema_created:
            with psycopg.connect(self.stack.endpoint("postgres").address,
                                 autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.name}"')
            self._schema_created = True
        return self.name

    @property
    def iceberg_database(self) -> str:
        """The namespace's Iceberg namespace (a database in Flink's catalog); created on use."""
        if not self._iceberg_created:
            with self._iceberg_catalog() as catalog:
                catalog.create_namespace_if_not_exists(self.name)
            self._iceberg_created = True
        return self.name

    def iceberg_table(self, table: str) -> str:
        """``catalog.database.table`` of a table in this namespace, for Flink SQL."""
        return f"`{self._iceberg_endpoint().catalog}`.`{self.iceberg_database}`.`{table}`"

    def _iceberg_endpoint(self) -> IcebergEndpoint:
        endpoint = self.stack.endpoint("iceberg")
        assert isinstance(endpoint, IcebergEndpoint)
        return endpoint

    def _iceberg_catalog(self) -> Any:
        from harness.iceberg import open_catalog  # pyiceberg is slow to import

        return open_catalog(self._iceberg_endpoint())

    @property
    def kube_namespace(self) -> str:
        """The Kubernetes namespace of this test (DNS-label form of the name); Helm creates
        it on install, :meth:`clean` deletes it."""
        self._kube_used = True
        return self.name.replace("_", "-")[:63].strip("-")

    def create_topic(self, name: str, *, partitions: int = 1,
                     config: dict[str, str] | None = None, timeout_s: float = 30) -> str:
        """Create a namespaced topic and wait until the broker confirms it."""
        full = self.topic(name)
        admin = self._admin()
        futures = admin.create_topics([NewTopic(full, partitions, 1, config=config or {})],
                                      operation_timeout=timeout_s)
        futures[full].result(timeout=timeout_s)
        return full

    def topics(self) -> list[str]:
        """Topics of this namespace that exist on the broker."""
        metadata = self._admin().list_topics(timeout=10)
        return sorted(t for t in metadata.topics if t.startswith(self.topic_prefix))

    def _admin(self) -> AdminClient:
        bootstrap = self.stack.endpoint("kafka").address
        return AdminClient({"bootstrap.servers": bootstrap})

    def clean(self) -> None:
        """Drop the schema and delete the topics and groups this namespace created."""
        errors = []
        if self._schema_created:
            try:
                with psycopg.connect(self.stack.endpoint("postgres").address,
                                     autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
                self._schema_created = False
            except psycopg.Error as exc:
                errors.append(f"dropping schema {self.name}: {exc}")
        if self._topics_used and "kafka" in self.stack.services:
            try:
                self._clean_kafka()
            except Exception as exc:
                errors.append(f"deleting topics {self.topic_prefix}*: {exc}")
        if self._iceberg_created:
            try:
                with self._iceberg_catalog() as catalog:
                    for identifier in catalog.list_tables(self.name):
                        catalog.drop_table(identifier)
                    catalog.drop_namespace(self.name)
                self._iceberg_created = False
            except Exception as exc:
                errors.append(f"dropping Iceberg namespace {self.name}: {exc}")
        if self._kube_used and "kubernetes" in self.stack.services:
            try:
                self._clean_kubernetes()
            except Exception as exc:
                errors.append(f"deleting Kubernetes namespace {self.kube_namespace}: {exc}")
        if errors:
            raise CutoverError("namespace cleanup incomplete: " + "; ".join(errors))

    def _clean_kubernetes(self) -> None:
        from pathlib import Path

        from harness.kubernetes.client import KubeClient

        endpoint = self.stack.endpoint("kubernetes")
        assert isinstance(endpoint, KubernetesEndpoint)
        with KubeClient(Path(endpoint.kubeconfig), context=endpoint.context) as client:
            client.delete("v1", "Namespace", self.kube_namespace)  # finalized asynchronously
        self._kube_used = False

    def _clean_kafka(self) -> None:
        admin = self._admin()
        topics = self.topics()
        if topics:
            for future in admin.delete_topics(topics, operation_timeout=30).values():
                future.result(timeout=30)
            deadline = time.monotonic() + 30
            while self.topics():  # deletion is asynchronous in the broker's metadata
                if time.monotonic() > deadline:
                    raise CutoverError(f"topics {self.topics()} still listed 30s after delete")
                time.sleep(0.1)
        groups = [g.group_id for g in admin.list_consumer_groups().result(timeout=10).valid
                  if g.group_id.startswith(self.topic_prefix)]
        if groups:
            for future in admin.delete_consumer_groups(groups).values():
                try:
                    future.result(timeout=30)
                except KafkaException as exc:  # an empty group can vanish on its own
                    if exc.args[0].code() != KafkaError.GROUP_ID_NOT_FOUND:
                        raise
