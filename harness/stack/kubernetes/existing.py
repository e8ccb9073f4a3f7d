"""A cluster that already runs (``--cutover-kubeconfig PATH``): nothing to start or stop,
only checked for what a Helm-driven canary needs."""

from __future__ import annotations

from pathlib import Path

from harness.errors import ServiceStartError
from harness.kubernetes.client import KubeApiError, KubeClient, load_kubeconfig
from harness.stack.endpoint import KubernetesEndpoint
from harness.stack.service import ReadinessProbe, Service
from harness.traffic.virtualservice import istio_api


class ExistingCluster(Service):
    """The cluster of a kubeconfig; it must serve Istio's VirtualService."""

    name = "kubernetes"

    def __init__(self, kubeconfig: Path, *, context: str = "") -> None:
        self.kubeconfig = Path(kubeconfig).expanduser()
        self.credentials = load_kubeconfig(self.kubeconfig, context)

    def start(self) -> None:
        """Nothing to start: the cluster is not ours."""

    def wait_ready(self, timeout_s: float) -> None:
        with KubeClient(self.kubeconfig, context=self.credentials.context) as client:
            ReadinessProbe(self.name, lambda: _answers(client), interval_s=0.5,
                           hint=f"is the cluster of {self.kubeconfig} reachable from here?"
                           ).wait(timeout_s)
            try:
                client.path(istio_api(client), "VirtualService")
            except KubeApiError as exc:
                raise ServiceStartError(
                    self.name, f"the cluster of {self.kubeconfig} does not serve Istio's "
                    f"VirtualService ({exc}); install Istio, or apply its CRDs "
                    "(`kubectl apply --server-side -f istio-crds.yaml` from the cache of "
                    "`cutover install --kubernetes`)") from exc

    def stop(self) -> None:
        """Never stopped: the cluster is not ours (test namespaces are removed by tests)."""

    def clean(self) -> None:
        """Nothing of ours to remove."""

    def endpoint(self) -> KubernetesEndpoint:
        return KubernetesEndpoint(self.name, kubeconfig=str(self.kubeconfig),
                                  server=self.credentials.server,
                                  context=self.credentials.context)


def _answers(client: KubeClient) -> str | None:
    try:
        client.request("GET", "/version")
    except KubeApiError as exc:
        if exc.status in (401, 403):  # retrying cannot help: the credentials are refused
            raise ServiceStartError(
                "kubernetes", f"the cluster refuses the credentials of the kubeconfig "
                f"(context {client.credentials.context!r}): {exc}; check its user, token "
                "or credential plugin") from exc
        return str(exc)
    return None
