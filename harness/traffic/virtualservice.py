"""Istio VirtualService weights, and the adapter that makes HAProxy split traffic as a
VirtualService says.

No istiod or Envoy sidecar can run on this machine, so the VirtualService a chart renders
is stored by the API server and enforced by nothing. :class:`VirtualServiceFollower` is
the one simulated link of the kubernetes provider: it watches the VirtualService and sets
HAProxy's per-version weights to its route weights, as the mesh's proxies would. The load
generator then measures the split it really gets, so a chart whose VirtualService does
not follow its values is seen in the traffic as well as in the object.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from harness.errors import CutoverError
from harness.kubernetes.client import KubeClient
from harness.traffic.router import Router, RouterError

ISTIO_GROUP = "networking.istio.io"
ALL_STABLE = {"stable": 100, "canary": 0}
WATCH_S = 2  # a watch is renewed this often, so a stopped follower ends within it


def istio_api(client: KubeClient) -> str:
    """``networking.istio.io/<version>`` as the cluster prefers it (v1 since Istio 1.22;
    older meshes serve v1beta1 or v1alpha3).

    Raises:
        KubeApiError: The cluster does not serve the group (no Istio CRDs).
    """
    group = client.request("GET", f"/apis/{ISTIO_GROUP}").json()
    return str(group["preferredVersion"]["groupVersion"])


class VirtualServiceError(CutoverError):
    """A VirtualService whose default route cannot be read as weights per subset."""


def _catches_all(route: Mapping[str, Any]) -> bool:
    matches = route.get("match") or []
    if not matches:
        return True
    return any(set(m) <= {"uri", "name"} and (m.get("uri") or {}).get("prefix") == "/"
               for m in matches)


def default_route(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The destinations of the route every ordinary request takes: the first HTTP route
    that matches everything (no ``match``, or only ``uri: {prefix: /}``). Istio evaluates
    routes in order; requests no route matches get a 404.

    Raises:
        VirtualServiceError: No HTTP route, or none that catches every request.
    """
    routes = list(spec.get("http") or [])
    if not routes:
        raise VirtualServiceError("spec.http is empty: no HTTP route to split")
    catch_all = next((r for r in routes if _catches_all(r)), None)
    if catch_all is None:
        raise VirtualServiceError(
            f"none of its {len(routes)} HTTP routes catches every request (each has a "
            "match): the weights of which route split the traffic is not defined")
    return list(catch_all.get("route") or [])


def route_weights(vs: Mapping[str, Any], subsets: Mapping[str, str]) -> dict[str, int]:
    """Weight per version of ``vs``'s default route.

    ``subsets`` maps a DestinationRule subset name to a version (``{"stable": "stable",
    "canary": "canary"}``). A lone destination without weight takes 100; versions the
    route does not name get 0.

    Raises:
        VirtualServiceError: A destination names a subset not in ``subsets``.
    """
    destinations = default_route(vs.get("spec") or {})
    weights = dict.fromkeys(subsets.values(), 0)
    for destination in destinations:
        subset = (destination.get("destination") or {}).get("subset", "")
        if subset not in subsets:
            raise VirtualServiceError(
                f"destination subset {subset!r} is not one of {sorted(subsets)}; name the "
                "chart's subsets with --chart-subsets STABLE,CANARY")
        weight = destination.get("weight")
        weight = 100 if weight is None and len(destinations) == 1 else int(weight or 0)
        weights[subsets[subset]] += weight
    return weights


class VirtualServiceFollower:
    """Watches one VirtualService and applies its weights to the data plane's router.

    Without the VirtualService (a chart renders it only with the canary enabled), all
    traffic goes to stable, as the chart's Service selector then says.
    """

    def __init__(self, client: KubeClient, *, namespace: str, name: str, router: Router,
                 subsets: Mapping[str, str] | None = None, api: str = "") -> None:
        self.client, self.namespace, self.name, self.router = client, namespace, name, router
        self.api = api
        self.subsets = dict(subsets or {"stable": "stable", "canary": "canary"})
        self.applied: dict[str, int] | None = None
        self.error = ""
        self.history: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name=f"follow-vs-{name}",
                                        daemon=True)

    def start(self) -> VirtualServiceFollower:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                version = self._sync()
                for event in self.client.watch(self.api, "VirtualService", self.namespace,
                                               field_selector=f"metadata.name={self.name}",
                                               resource_version=version,
                                               timeout_s=WATCH_S):
                    if self._stop.is_set():
                        return
                    kind = event.get("type")
                    if kind in ("ADDED", "MODIFIED"):
                        self._apply(event["object"])
                    elif kind == "DELETED":
                        self._apply(None)
                    elif kind == "ERROR":
                        break  # e.g. 410 Gone: list again
            except Exception as exc:  # the API's, and httpx's once the client closes
                if self._stop.is_set():
                    return
                self._fail(f"watching VirtualService {self.namespace}/{self.name}: "
                           f"{type(exc).__name__}: {exc}")
                self._stop.wait(0.5)

    def _sync(self) -> str:
        """Apply the current object; the resourceVersion to watch from."""
        self.api = self.api or istio_api(self.client)
        path = self.client.path(self.api, "VirtualService", namespace=self.namespace)
        listing = self.client.request(
            "GET", path, params={"fieldSelector": f"metadata.name={self.name}"}).json()
        items = listing.get("items") or []
        self._apply(items[0] if items else None)
        return str(listing.get("metadata", {}).get("resourceVersion", ""))

    def _apply(self, vs: Mapping[str, Any] | None) -> None:
        try:
            weights = route_weights(vs, self.subsets) if vs is not None else dict(ALL_STABLE)
            if weights != self.applied:
                self.router.set_weights(weights)
        except (VirtualServiceError, RouterError) as exc:
            self._fail(f"VirtualService {self.namespace}/{self.name} not applied: {exc}")
            return
        with self._changed:
            if weights != self.applied:
                self.history.append({"ts": round(time.time(), 3), "weights": weights,
                                     "resource_version": (vs or {}).get("metadata", {})
                                     .get("resourceVersion", "")})
            self.applied, self.error = weights, ""
            self._changed.notify_all()

    def _fail(self, message: str) -> None:
        with self._changed:
            self.error = message
            self._changed.notify_all()

    def wait_applied(self, expected: Mapping[str, int], timeout_s: float = 10.0) -> float:
        """Wait until the data plane splits as ``expected``; the seconds it took.

        Raises:
            RouterError: Not applied within ``timeout_s``, with the last weights and error.
        """
        started = time.monotonic()
        deadline = started + timeout_s
        with self._changed:
            while self.applied != dict(expected):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RouterError(
                        f"the data plane did not follow VirtualService {self.namespace}/"
                        f"{self.name} to {dict(expected)} within {timeout_s:.0f}s (applied: "
                        f"{self.applied}; {self.error or 'no error'})")
                self._changed.wait(min(left, 0.5))
        return time.monotonic() - started

    def stop(self) -> bool:
        """Stop following, waiting for the thread (it ends within one watch renewal).
        False when it did not end: it could still write the data plane."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=WATCH_S + 10)
        return not self._thread.is_alive()
