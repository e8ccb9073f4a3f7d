"""The kubernetes provider: a real control plane (etcd, API server, controller manager,
scheduler, kwok), the reference chart installed with real Helm, and the adapter that
makes HAProxy follow a VirtualService."""

import shutil
from pathlib import Path

import pytest

from fixtures.canary import CHART, VALUES
from harness.config import load_config
from harness.deploy.chart import ChartSpec, deployment_status, release_objects
from harness.kubernetes.client import KubeApiError, KubeClient
from harness.kubernetes.helm import Helm, HelmError
from harness.stack import Stack
from harness.stack.kubernetes.toolchain import built_helm
from harness.traffic.haproxy import HaproxyRouter
from harness.traffic.virtualservice import VirtualServiceFollower, route_weights
from harness.wait import wait_until
from tests.integration.run_root import private_run_root
from tests.integration.upstreams import version_server

ISTIO_API = "networking.istio.io/v1"

pytestmark = pytest.mark.kubernetes


@pytest.fixture
def kube(kubernetes):
    with KubeClient(Path(kubernetes.kubeconfig), context=kubernetes.context) as client:
        yield client


@pytest.fixture
def helm(kubernetes, namespace, stack):
    binary = built_helm(Path(stack.config["cache_dir"]))
    return Helm.find(binary, kubeconfig=kubernetes.kubeconfig,
                     namespace=namespace.kube_namespace, kube_context=kubernetes.context)


def test_the_control_plane_is_real_and_serves_istio_kinds(stack, kube):
    assert kube.request("GET", "/version").json()["gitVersion"] == "v1.34.3"
    nodes = kube.list("v1", "Node")
    assert [n["metadata"]["name"] for n in nodes] == ["cutover-node-0"]
    assert kube.path(ISTIO_API, "VirtualService").endswith("/virtualservices")
    processes = {p.name for p in stack.services["kubernetes"].processes()}
    assert processes == {"etcd", "kube-apiserver", "kube-controller-manager",
                         "kube-scheduler", "kwok"}


def test_the_api_server_validates_virtualservices_for_real(kube, namespace):
    kube.apply({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": namespace.kube_namespace}})
    bad = {"apiVersion": ISTIO_API, "kind": "VirtualService",
           "metadata": {"name": "bad", "namespace": namespace.kube_namespace},
           "spec": {"hosts": ["x"], "http": [{"route": [
               {"destination": {"host": "x"}, "weight": "heavy"}]}]}}
    path = kube.path(ISTIO_API, "VirtualService", namespace=namespace.kube_namespace)
    with pytest.raises(KubeApiError) as refused:
        kube.request("POST", path, json=bad)
    assert refused.value.status == 422, refused.value
    assert "spec.http[0].route[0].weight" in str(refused.value)


def test_helm_installs_the_reference_chart_and_its_virtualservice_follows_the_values(
        helm, kube, namespace):
    helm.upgrade("data-tier", CHART, install=True, values_files=[VALUES], wait=True,
                 set_values={"dataTier.canary.enabled": True,
                             "dataTier.canary.trafficPercentage": 30,
                             "dataTier.canary.image.tag": "v2"})
    spec = ChartSpec(chart=CHART, release="data-tier")
    objects = release_objects(helm.manifest("data-tier"), spec)
    assert objects.deployments == {"stable": "data-tier", "canary": "data-tier-canary"}
    vs = kube.get(ISTIO_API, "VirtualService", objects.virtual_service,
                  namespace.kube_namespace)
    assert route_weights(vs, spec.subsets) == {"stable": 70, "canary": 30}
    for name in objects.deployments.values():
        wait_until(lambda n=name: deployment_status(
            kube.get("apps/v1", "Deployment", n, namespace.kube_namespace)),
            timeout_s=30, what=f"{name} available (kwok runs its pods)", interval_s=0.1)
    with pytest.raises(HelmError, match=r"must be within 0\.\.100, got 150"):
        helm.upgrade("data-tier", CHART, reuse_values=True,
                     set_values={"dataTier.canary.trafficPercentage": 150})


def test_haproxy_follows_the_virtualservice(stack, kubernetes, kube, namespace):
    haproxy = stack.endpoint("haproxy")
    router = HaproxyRouter(haproxy.admin_socket, haproxy.backend)
    servers = {v: version_server(v) for v in ("stable", "canary")}
    for version, server in servers.items():
        router.set_address(version, "127.0.0.1", server.server_address[1])
    ns = namespace.kube_namespace
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    def vs(canary):
        return {"apiVersion": ISTIO_API, "kind": "VirtualService",
                "metadata": {"name": "svc", "namespace": ns},
                "spec": {"hosts": ["svc"], "http": [{"route": [
                    {"destination": {"host": "svc", "subset": "stable"},
                     "weight": 100 - canary},
                    {"destination": {"host": "svc", "subset": "canary"}, "weight": canary}]}]}}

    with KubeClient(Path(kubernetes.kubeconfig)) as watcher:
        follower = VirtualServiceFollower(watcher, namespace=ns, name="svc",
                                          router=router).start()
        try:
            follower.wait_applied({"stable": 100, "canary": 0})  # no VirtualService yet
            for canary in (25, 60):
                kube.apply(vs(canary))
                follower.wait_applied({"stable": 100 - canary, "canary": canary})
                assert router.weights() == {"stable": 100 - canary, "canary": canary}
            kube.delete(ISTIO_API, "VirtualService", "svc", ns)
            follower.wait_applied({"stable": 100, "canary": 0})
            assert [h["weights"]["canary"] for h in follower.history] == [0, 25, 60, 0]
        finally:
            follower.stop()
            router.set_weights({"stable": 100, "canary": 0})
            for server in servers.values():
                server.shutdown()
                server.server_close()


def test_kubeconfig_points_the_provider_at_an_existing_cluster(kubernetes, tmp_path):
    copy = tmp_path / "kubeconfig"
    shutil.copyfile(kubernetes.kubeconfig, copy)
    with private_run_root() as run_root:
        config = load_config(cli={"provider": "kubernetes", "kubeconfig": str(copy),
                                  "run_root": str(run_root)})
        with Stack(config) as other:
            endpoint = other.endpoint("kubernetes")
            assert endpoint.server == kubernetes.server
            assert other.services["kubernetes"].processes() == [], "nothing started"
