"""ExternalProvider: services that already run elsewhere, from an endpoints file.

Nothing is started or stopped (the pytest-postgresql "noproc" way): each service of the
file is checked to answer (a TCP connect, an HTTP request, the API server's /version),
and its endpoint is handed to the scenarios exactly as a started one would be. For teams
with a staging platform, and for a stack started with ``cutover up``.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

from harness.errors import ConfigError
from harness.stack.endpoint import Endpoint, KubernetesEndpoint
from harness.stack.external.endpoints_file import KINDS, load_endpoints
from harness.stack.kubernetes.existing import ExistingCluster
from harness.stack.provider import Provider
from harness.stack.service import ReadinessProbe, Service


def _addresses(endpoint: Endpoint) -> list[tuple[str, int]]:
    """host:port pairs that must accept a connection for ``endpoint`` to be usable."""
    values = endpoint.to_dict()
    pairs: list[tuple[str, int]] = []
    if "host" in values and "port" in values:
        pairs.append((str(values["host"]), int(values["port"])))
    for key in ("bootstrap_servers",):
        if key in values:
            host, _, port = str(values[key]).split(",")[0].rpartition(":")
            pairs.append((host, int(port)))
    for key in ("url", "rest_url", "sql_gateway_url", "ccompat_url"):
        if values.get(key):
            parsed = urlparse(str(values[key]))
            default = 443 if parsed.scheme == "https" else 80
            pairs.append((parsed.hostname or "", parsed.port or default))
    return pairs


def _connects(pairs: list[tuple[str, int]]) -> str | None:
    for host, port in pairs:
        try:
            with socket.create_connection((host, port), timeout=2):
                pass
        except OSError as exc:
            return f"{host}:{port} refuses connections ({exc.strerror or exc})"
    return None


class ExternalService(Service):
    """A running service we only point at."""

    def __init__(self, name: str, endpoint: Endpoint) -> None:
        self.name, self._endpoint = name, endpoint

    def start(self) -> None:
        """Already running."""

    def wait_ready(self, timeout_s: float) -> None:
        pairs = _addresses(self._endpoint)
        ReadinessProbe(self.name, lambda: _connects(pairs), interval_s=0.3,
                       hint=f"is {self._endpoint.address} reachable from here?"
                       ).wait(timeout_s)

    def stop(self) -> None:
        """Not ours to stop."""

    def clean(self) -> None:
        """Not ours to clean (tests remove what their namespaces created)."""

    def endpoint(self) -> Endpoint:
        return self._endpoint


class ExternalProvider(Provider):
    """Endpoints of running services, from ``--cutover-endpoints FILE``."""

    name: ClassVar[str] = "external"

    @classmethod
    def service_names(cls) -> list[str]:
        return list(KINDS)

    def _endpoints(self) -> dict[str, Endpoint]:
        return load_endpoints(self.config["endpoints"])

    def check(self, names: list[str]) -> None:
        endpoints = self._endpoints()
        for name in names:
            self.require_known(name)
            if name not in endpoints:
                raise ConfigError(
                    f"service {name} is not in the endpoints file {self.config['endpoints']}"
                    f" (it has {', '.join(endpoints) or 'nothing'}); add a [{name}] table "
                    "with its endpoint's fields (`cutover endpoints` prints them for a "
                    "stack started with `cutover up`)")

    def service(self, name: str, running: dict[str, Endpoint]) -> Service:
        self.require_known(name)
        endpoint = self._endpoints()[name]
        if isinstance(endpoint, KubernetesEndpoint):
            return ExistingCluster(Path(endpoint.kubeconfig), context=endpoint.context)
        return ExternalService(name, endpoint)
