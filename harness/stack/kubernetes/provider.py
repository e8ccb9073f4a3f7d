"""KubernetesProvider: the local stack plus a Kubernetes control plane (``kubernetes``).

The data services (PostgreSQL, Kafka, Flink, HAProxy, Prometheus, ...) are the local
provider's. ``kubernetes`` is a control plane started here from the toolchain of
``cutover install --kubernetes``, or, with ``--cutover-kubeconfig PATH``, any cluster that
already runs: the same endpoint (a kubeconfig) either way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from harness.config import Config
from harness.stack.endpoint import Endpoint
from harness.stack.kubernetes.control_plane import KubernetesService
from harness.stack.kubernetes.existing import ExistingCluster
from harness.stack.kubernetes.toolchain import find_toolchain
from harness.stack.local.provider import LocalProvider
from harness.stack.provider import Provider
from harness.stack.service import Service


class KubernetesProvider(Provider):
    """Local services, and a real API server for Helm charts and Istio resources."""

    name: ClassVar[str] = "kubernetes"

    def __init__(self, config: Config, run_dir: Path,
                 progress: Callable[[str], None] = lambda _msg: None) -> None:
        super().__init__(config, run_dir, progress)
        self.local = LocalProvider(config, run_dir, progress)

    @classmethod
    def service_names(cls) -> list[str]:
        return [*LocalProvider.service_names(), "kubernetes"]

    def dependencies(self, name: str) -> list[str]:
        return self.local.dependencies(name)

    def check(self, names: list[str]) -> None:
        for name in names:
            self.require_known(name)
        self.local.check([n for n in names if n != "kubernetes"])
        if "kubernetes" in names and not self.config["kubeconfig"]:
            find_toolchain(Path(self.config["cache_dir"]))

    def service(self, name: str, running: dict[str, Endpoint]) -> Service:
        self.require_known(name)
        if name != "kubernetes":
            return self.local.service(name, running)
        if self.config["kubeconfig"]:
            return ExistingCluster(Path(self.config["kubeconfig"]),
                                   context=self.config["kube_context"])
        return KubernetesService(run_dir=self.run_dir,
                                 toolchain=find_toolchain(Path(self.config["cache_dir"])))

    def close(self) -> None:
        self.local.close()
