"""Endpoint values: how tests and scenarios reach a service, whatever runs it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """Base of every endpoint; ``service`` names the service it belongs to."""

    service: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = type(self).__name__
        data["address"] = self.address
        return data

    @property
    def address(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class PostgresEndpoint(Endpoint):
    """A PostgreSQL server reachable over TCP."""

    host: str
    port: int
    user: str
    database: str

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def address(self) -> str:
        return self.dsn


@dataclass(frozen=True)
class KafkaEndpoint(Endpoint):
    """A Kafka cluster reachable through its bootstrap servers.

    ``flink_bootstrap_servers`` is what Flink's statements connect to: a listener reached
    through Toxiproxy when the stack runs with network faults, else the same servers.
    """

    bootstrap_servers: str
    flink_bootstrap_servers: str = ""

    @property
    def address(self) -> str:
        return self.bootstrap_servers


@dataclass(frozen=True)
class HttpEndpoint(Endpoint):
    """An HTTP API (REST endpoints of Flink, Connect, a registry, ...)."""

    url: str

    @property
    def address(self) -> str:
        return self.url


@dataclass(frozen=True)
class SchemaRegistryEndpoint(Endpoint):
    """A schema registry: its Confluent-compatible API and its native API.

    Flink's ``avro-confluent`` formats and :class:`SchemaRegistryClient` use
    ``ccompat_url``; the Connect Avro converter registers through ``native_url``.
    """

    ccompat_url: str
    native_url: str

    @property
    def address(self) -> str:
        return self.ccompat_url


@dataclass(frozen=True)
class HaproxyEndpoint(Endpoint):
    """The traffic router: where clients send requests, its metrics and its runtime API."""

    url: str
    metrics_url: str
    admin_socket: str
    backend: str

    @property
    def address(self) -> str:
        return self.url


@dataclass(frozen=True)
class PrometheusEndpoint(Endpoint):
    """Prometheus: its HTTP API, and the file listing the data tier's scrape targets."""

    url: str
    targets_file: str

    @property
    def address(self) -> str:
        return self.url


@dataclass(frozen=True)
class FlinkEndpoint(Endpoint):
    """A Flink session cluster: its REST API (jobs) and its SQL Gateway (statements)."""

    rest_url: str
    sql_gateway_url: str
    savepoint_dir: str = ""

    @property
    def address(self) -> str:
        return self.sql_gateway_url


@dataclass(frozen=True)
class IcebergEndpoint(Endpoint):
    """An Iceberg JDBC catalog (tables in PostgreSQL) over a file warehouse.

    Flink writes through ``jdbc_uri``; pyiceberg reads through ``sqlalchemy_uri``. Both
    must use the same ``catalog`` name, or each sees an empty catalog.
    """

    catalog: str
    jdbc_uri: str
    sqlalchemy_uri: str
    user: str
    warehouse: str

    @property
    def address(self) -> str:
        return f"{self.catalog} @ {self.jdbc_uri} -> {self.warehouse}"

    def flink_catalog_sql(self) -> str:
        """The CREATE CATALOG statement a Flink SQL session needs to reach this catalog."""
        return (
            f"CREATE CATALOG `{self.catalog}` WITH ('type'='iceberg', "
            "'catalog-impl'='org.apache.iceberg.jdbc.JdbcCatalog', "
            f"'uri'='{self.jdbc_uri}', 'jdbc.user'='{self.user}', 'jdbc.password'='', "
            f"'warehouse'='{self.warehouse}')"
        )


@dataclass(frozen=True)
class KubernetesEndpoint(Endpoint):
    """A Kubernetes API server, reached through a kubeconfig (and one of its contexts)."""

    kubeconfig: str
    server: str = ""  # informative: the kubeconfig's context decides
    context: str = ""

    @property
    def address(self) -> str:
        return self.server


ENDPOINT_KINDS: dict[str, type[Endpoint]] = {
    cls.__name__: cls
    for cls in (PostgresEndpoint, KafkaEndpoint, HttpEndpoint, FlinkEndpoint, IcebergEndpoint,
                SchemaRegistryEndpoint, HaproxyEndpoint, PrometheusEndpoint,
                KubernetesEndpoint)
}


def endpoint_from_dict(data: dict[str, Any]) -> Endpoint:
    """Rebuild an endpoint written by :meth:`Endpoint.to_dict` (state files)."""
    fields = {k: v for k, v in data.items() if k not in ("kind", "address")}
    return ENDPOINT_KINDS[data["kind"]](**fields)
