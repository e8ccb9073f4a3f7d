"""The endpoints file of the external provider: one TOML table per service, with the
fields of its endpoint (what ``cutover up --json`` prints, and ``cutover endpoints``
writes)::

    [postgres]
    host = "db.staging.internal"
    port = 5432
    user = "cutover"
    database = "platform"

    [kafka]
    bootstrap_servers = "kafka-1.staging:9092,kafka-2.staging:9092"

    [kubernetes]
    kubeconfig = "~/.kube/staging"   # relative paths: to this file's folder
    context = "staging"              # default: the kubeconfig's current context
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.stack.endpoint import (
    Endpoint,
    FlinkEndpoint,
    HaproxyEndpoint,
    HttpEndpoint,
    IcebergEndpoint,
    KafkaEndpoint,
    KubernetesEndpoint,
    PostgresEndpoint,
    PrometheusEndpoint,
    SchemaRegistryEndpoint,
)

# The endpoint kind of each service the scenarios know.
KINDS: dict[str, type[Endpoint]] = {
    "postgres": PostgresEndpoint, "kafka": KafkaEndpoint, "iceberg": IcebergEndpoint,
    "flink": FlinkEndpoint, "registry": SchemaRegistryEndpoint, "connect": HttpEndpoint,
    "haproxy": HaproxyEndpoint, "prometheus": PrometheusEndpoint,
    "kubernetes": KubernetesEndpoint,
}


def _fields(kind: type[Endpoint]) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(kind) if f.name != "service"]


def parse_endpoints(text: str, *, origin: str,
                    base: Path | None = None) -> dict[str, Endpoint]:
    """Endpoints by service name; every error names the table and key to fix.

    A relative ``kubeconfig`` is relative to ``base`` (the endpoints file's folder).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML ({exc})") from exc
    endpoints = {}
    for service, table in data.items():
        if service not in KINDS:
            raise ConfigError(f"{origin}: unknown service [{service}]; known: "
                              f"{', '.join(KINDS)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: [{service}] must be a table")
        kind = KINDS[service]
        fields = {f.name: f for f in _fields(kind)}
        unknown = sorted(set(table) - set(fields) - {"kind", "address", "pids"})
        if unknown:
            raise ConfigError(f"{origin}: [{service}] has unknown keys {unknown}; its keys "
                              f"are {', '.join(fields)}")
        required = [name for name, f in fields.items()
                    if f.default is dataclasses.MISSING and name not in table]
        if required:
            raise ConfigError(f"{origin}: [{service}] lacks {', '.join(required)}; add "
                              f"{' and '.join(required)} (see `cutover endpoints`)")
        values = {name: table[name] for name in fields if name in table}
        if "kubeconfig" in values:
            kubeconfig = Path(values["kubeconfig"]).expanduser()
            if not kubeconfig.is_absolute() and base is not None:
                kubeconfig = base / kubeconfig
            values["kubeconfig"] = str(kubeconfig)
        endpoints[service] = kind(service, **values)
    return endpoints


def load_endpoints(path: str | Path) -> dict[str, Endpoint]:
    """Read an endpoints file.

    Raises:
        ConfigError: No such file, or it is not a valid endpoints file.
    """
    path = Path(path).expanduser()
    if not str(path) or not path.is_file():
        raise ConfigError(f"endpoints file {path} does not exist; the external provider "
                          "needs one: --cutover-endpoints FILE (`cutover endpoints > FILE` "
                          "writes one for a stack started with `cutover up`)")
    return parse_endpoints(path.read_text(), origin=str(path), base=path.parent)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render_endpoints(endpoints: Mapping[str, Mapping[str, Any]]) -> str:
    """An endpoints file for endpoint dicts (``Endpoint.to_dict``, or a state file's)."""
    lines = ["# cutover endpoints: --cutover-provider external --cutover-endpoints FILE"]
    for service, data in endpoints.items():
        if service not in KINDS or not data:
            continue
        lines.append(f"\n[{service}]")
        for field in _fields(KINDS[service]):
            if field.name in data:
                lines.append(f"{field.name} = {_toml_value(data[field.name])}")
    return "\n".join(lines) + "\n"
