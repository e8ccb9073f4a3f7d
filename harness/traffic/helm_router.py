"""HelmRouter: canary weights set the way the automation script sets them, with
``helm upgrade --reuse-values --set <root>.trafficPercentage=N``, and checked on the
cluster before the analysis goes on.

Each weight change asserts, in order:

1. the VirtualService the release rendered routes exactly ``(100 - N, N)`` to the
   stable and canary subsets (read back from the API server, not from the template);
2. the canary Deployment is Available with at least one replica (not waited for when
   the canary's traffic goes to 0: a rollback never waits on the canary);
3. the data plane follows: HAProxy's weights equal the VirtualService's (through
   :class:`~harness.traffic.virtualservice.VirtualServiceFollower`).

A chart whose VirtualService does not follow its values fails step 1 at the first
increment with :class:`ChartMismatchError`, naming the expected and found weights. Every
other failure (Helm refusing, the API server, a Deployment that never becomes
available) is a :class:`RouterError` too, so the run ends with a verdict, not a
traceback. Addresses and request counters are the data plane's (HAProxy).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.deploy.chart import (
    ChartSpec,
    ReleaseObjects,
    deployment_status,
    image_tags,
    release_objects,
)
from harness.errors import ConfigError, CutoverError
from harness.events import EventLog
from harness.kubernetes.client import KubeClient
from harness.kubernetes.helm import Helm
from harness.stack.endpoint import KubernetesEndpoint
from harness.traffic.haproxy import HaproxyRouter
from harness.traffic.router import Router, RouterError, check_percentages
from harness.traffic.virtualservice import (
    ALL_STABLE,
    VirtualServiceFollower,
    istio_api,
    route_weights,
)
from harness.wait import wait_until


class ChartMismatchError(RouterError):
    """The chart rendered weights other than the ones its values asked for."""

    def __init__(self, message: str, *, expected: dict[str, int],
                 found: dict[str, int] | None) -> None:
        self.expected, self.found = expected, found
        super().__init__(message)


@contextmanager
def _as_router_error(what: str) -> Iterator[None]:
    """Helm, API and wait failures become RouterErrors that say what was being done."""
    try:
        yield
    except RouterError:
        raise
    except CutoverError as exc:
        raise RouterError(f"{what}: {exc}") from exc


class HelmRouter(Router):
    """Weights through a Helm release on a cluster; the split enforced by HAProxy."""

    def __init__(self, *, helm: Helm, client: KubeClient, follower_client: KubeClient,
                 chart: ChartSpec, data_plane: HaproxyRouter, events: EventLog) -> None:
        self.helm, self.client, self.chart = helm, client, chart
        self.follower_client = follower_client
        self.data_plane, self.events, self.timeout_s = data_plane, events, chart.timeout_s
        self.namespace = helm.namespace
        self.canary_enabled = False
        self.objects: ReleaseObjects | None = None
        self.follower: VirtualServiceFollower | None = None
        self.steps: list[dict[str, Any]] = []
        self.istio_api = ""

    @classmethod
    def on_cluster(cls, *, kubernetes: KubernetesEndpoint, namespace: str, chart: ChartSpec,
                   data_plane: HaproxyRouter, events: EventLog,
                   helm_binary: str | Path | None = None) -> HelmRouter:
        """A router for ``chart`` released into ``namespace`` of the cluster behind
        ``kubernetes`` (its kubeconfig and context)."""
        def client() -> KubeClient:
            return KubeClient(Path(kubernetes.kubeconfig), context=kubernetes.context)

        helm = Helm.find(helm_binary, kubeconfig=kubernetes.kubeconfig, namespace=namespace,
                         kube_context=kubernetes.context, timeout_s=2 * chart.timeout_s)
        main = client()
        try:
            return cls(helm=helm, client=main, follower_client=client(), chart=chart,
                       data_plane=data_plane, events=events)
        except BaseException:
            main.close()
            raise

    # -- the release ---------------------------------------------------------------
    def install(self, stable_tag: str) -> None:
        """Install (or upgrade) the release with the canary off and the stable tag set,
        wait until it is rolled out, then follow its VirtualService."""
        started = time.monotonic()
        with _as_router_error(f"installing release {self.chart.release}"):
            self.istio_api = istio_api(self.client)
            self.helm.upgrade(self.chart.release, self.chart.chart, install=True,
                              values_files=self.chart.values_files, wait=True,
                              set_values={self.chart.key("stable_tag"): stable_tag,
                                          self.chart.key("enabled"): False,
                                          self.chart.key("traffic"): 0})
            self._discover()
            self._wait_deployment("stable")
        self.events.emit("helm.installed", release=self.chart.release,
                         namespace=self.namespace, stable_tag=stable_tag,
                         seconds=round(time.monotonic() - started, 2))

    def deploy_canary(self, canary_tag: str) -> None:
        """The script's step 2: canary enabled at 0 %. Whether it becomes available is
        :meth:`canary_available`'s question (the controller rolls back when not)."""
        with _as_router_error(f"deploying the canary of release {self.chart.release}"):
            self.helm.upgrade(self.chart.release, self.chart.chart, reuse_values=True,
                              set_values={self.chart.key("enabled"): True,
                                          self.chart.key("traffic"): 0,
                                          self.chart.key("canary_tag"): canary_tag})
            self.canary_enabled = True
            self._discover()
        if "canary" not in self._objects().deployments:
            raise RouterError(f"release {self.chart.release}: with "
                              f"{self.chart.key('enabled')}=true the chart renders no "
                              "Deployment whose pods the canary subset selects")
        self.events.emit("helm.canary_deployed", release=self.chart.release,
                         canary_tag=canary_tag)

    def promote(self, canary_tag: str) -> None:
        """The script's step 5: the stable image tag becomes the canary's, canary
        traffic 0; wait until the stable Deployment runs that tag.

        A chart whose stable Deployment does not take the tag is not waited for: the
        check ``stable_tag_promoted`` reports the tags it runs instead.
        """
        with _as_router_error(f"promoting release {self.chart.release}"):
            self.helm.upgrade(self.chart.release, self.chart.chart, reuse_values=True,
                              set_values={self.chart.key("stable_tag"): canary_tag,
                                          self.chart.key("traffic"): 0})
            rendered = image_tags(self.deployment("stable") or {})
            if canary_tag in rendered:
                self._wait_deployment("stable", tag=canary_tag)
        self.events.emit("helm.promoted", release=self.chart.release, stable_tag=canary_tag,
                         rendered_tags=rendered)

    def reset_traffic(self) -> str:
        """After a failure: stop following, and set the release's canary traffic to 0
        (best effort). Returns why the reset failed ('' when it worked)."""
        if self.follower is not None and not self.follower.stop():
            return (f"the follower of VirtualService {self.namespace}/{self.follower.name} "
                    "did not stop")
        if not self.canary_enabled:
            return ""
        try:
            self.helm.upgrade(self.chart.release, self.chart.chart, reuse_values=True,
                              set_values={self.chart.key("traffic"): 0})
        except CutoverError as exc:
            return str(exc)
        return ""

    def deployment(self, version: str) -> dict[str, Any] | None:
        name = self._objects().deployments.get(version, "")
        return self.client.get("apps/v1", "Deployment", name, self.namespace) if name else None

    def canary_available(self, *, wait: bool = False) -> bool:
        """The canary Deployment is Available with a replica (waiting up to the chart's
        timeout with ``wait``)."""
        try:
            if wait:
                self._wait_deployment("canary")
            return deployment_status(self.deployment("canary"), min_replicas=1) is None
        except CutoverError as exc:
            self.events.emit("helm.canary_unavailable", error=str(exc))
            return False

    def virtual_service_weights(self) -> dict[str, int] | None:
        """The VirtualService's weights now (None when the release renders none)."""
        name = self._objects().virtual_service
        api = self.istio_api or istio_api(self.client)
        vs = self.client.get(api, "VirtualService", name, self.namespace) if name else None
        return route_weights(vs, self.chart.subsets) if vs is not None else None

    # -- Router --------------------------------------------------------------------
    def set_address(self, version: str, host: str, port: int) -> None:
        self.data_plane.set_address(version, host, port)

    def set_weights(self, percentages: dict[str, int]) -> None:
        check_percentages(percentages)
        expected = {"stable": percentages["stable"], "canary": percentages["canary"]}
        if not self.canary_enabled:
            if expected != ALL_STABLE:
                raise RouterError(f"the canary is not deployed yet: cannot route {expected}")
            self._follower().wait_applied(ALL_STABLE, timeout_s=self.timeout_s)
            return
        step: dict[str, Any] = {"weight": expected["canary"], "expected": expected,
                                "virtual_service": None, "ok": False}
        self.steps.append(step)
        started = time.monotonic()
        try:
            self._set(expected, step, started)
        except RouterError as exc:
            step["failed"] = str(exc)
            self.events.emit("helm.mismatch" if isinstance(exc, ChartMismatchError)
                             else "helm.step_failed", **step)
            raise
        step["ok"] = True
        step["step_s"] = round(time.monotonic() - started, 3)
        self.events.emit("helm.weight", **step)

    def _set(self, expected: dict[str, int], step: dict[str, Any], started: float) -> None:
        traffic = self.chart.key("traffic")
        with _as_router_error(f"helm upgrade --set {traffic}={expected['canary']}"):
            self.helm.upgrade(self.chart.release, self.chart.chart, reuse_values=True,
                              set_values={traffic: expected["canary"]})
            step["helm_upgrade_s"] = round(time.monotonic() - started, 3)
            found = step["virtual_service"] = self.virtual_service_weights()
        if found != expected:
            vs = self._objects().virtual_service or "(none rendered)"
            raise ChartMismatchError(
                f"after `helm upgrade --reuse-values --set {traffic}={expected['canary']}` "
                f"VirtualService {self.namespace}/{vs} routes {found} where {expected} was "
                f"expected: the chart's VirtualService does not follow {traffic}",
                expected=expected, found=found)
        if expected["canary"] > 0:  # a rollback to 0 % never waits on the canary
            with _as_router_error(f"canary at {expected['canary']} %"):
                self._wait_deployment("canary")
            step["canary_available"] = True
        step["data_plane_s"] = round(self._follower().wait_applied(
            expected, timeout_s=self.timeout_s), 3)

    def weights(self) -> dict[str, int]:
        found = self.virtual_service_weights() if self.canary_enabled else None
        return found if found is not None else dict(ALL_STABLE)

    def requests(self) -> dict[str, int]:
        return self.data_plane.requests()

    def in_flight(self) -> dict[str, int]:
        return self.data_plane.in_flight()

    # -- internals -----------------------------------------------------------------
    def _objects(self) -> ReleaseObjects:
        if self.objects is None:
            self._discover()
        assert self.objects is not None
        return self.objects

    def _discover(self) -> None:
        try:
            self.objects = release_objects(self.helm.manifest(self.chart.release),
                                           self.chart)
        except ConfigError as exc:
            raise RouterError(str(exc)) from exc
        if self.objects.virtual_service:
            self._follow(self.objects.virtual_service)

    def _follower(self) -> VirtualServiceFollower:
        if self.follower is None:
            # The design's chart renders its VirtualService only with the canary on; until
            # then follow the name it will have: the one given, else the stable
            # Deployment's (the design names both after the service).
            self._follow(self.chart.virtual_service or self._objects().deployments["stable"])
        assert self.follower is not None
        return self.follower

    def _follow(self, name: str) -> None:
        if self.follower is not None and self.follower.name == name:
            return
        if self.follower is not None:
            self.follower.stop()
        self.follower = VirtualServiceFollower(
            self.follower_client, namespace=self.namespace, name=name,
            router=self.data_plane, subsets=self.chart.subsets,
            api=self.istio_api or istio_api(self.client)).start()

    def _wait_deployment(self, version: str, *, tag: str = "") -> None:
        def ready() -> str | None:
            deployment = self.deployment(version)
            reason = deployment_status(deployment, min_replicas=1)
            if reason is None and tag and deployment is not None and \
                    tag not in image_tags(deployment):
                return f"runs image tags {image_tags(deployment)}, not {tag!r}"
            return reason

        name = self._objects().deployments.get(version, f"(no {version} Deployment)")
        wait_until(ready, timeout_s=self.timeout_s,
                   what=f"Deployment {self.namespace}/{name} ({version}) to be available",
                   interval_s=0.1)

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        self.client.close()
        self.follower_client.close()


def chart_router(stack: Any, *, namespace: str, chart: ChartSpec, data_plane: HaproxyRouter,
                 events: EventLog) -> HelmRouter:
    """The HelmRouter of ``chart`` on ``stack``'s Kubernetes (started on first use).

    Raises:
        ConfigError: The stack's provider has no Kubernetes; names the options that give one.
    """
    from harness.stack.kubernetes.toolchain import built_helm

    if "kubernetes" not in stack.provider.service_names():
        raise ConfigError(
            "a chart-driven canary needs a Kubernetes API server, and the "
            f"{stack.provider.name!r} provider has none: run with --cutover-provider "
            "kubernetes (a control plane on this machine; add --cutover-kubeconfig PATH for "
            "a cluster of yours)")
    endpoint = stack.endpoint("kubernetes")
    assert isinstance(endpoint, KubernetesEndpoint)
    return HelmRouter.on_cluster(kubernetes=endpoint, namespace=namespace, chart=chart,
                                 data_plane=data_plane, events=events,
                                 helm_binary=built_helm(Path(stack.config["cache_dir"])))
