"""A Helm chart as a canary's deployment: which values steer it, which objects it renders.

The defaults follow the canary deployment design: under the policy's root key
(``dataTier.canary``) ``enabled``, ``trafficPercentage`` and ``image.tag``, and the stable
tag at ``<parent>.image.tag`` (``dataTier.image.tag``). The Deployments and the
VirtualService are found in the release's own manifest (``helm get manifest``): the
Deployments by their pods' ``version`` label, the VirtualService by kind. A chart that
names things otherwise says so with the explicit fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.deploy.target import DEFAULT_VALUES_ROOT
from harness.errors import ConfigError
from harness.kubernetes.client import load_documents


@dataclass(frozen=True)
class ChartSpec:
    """Where the chart is and how its values drive a canary."""

    chart: Path
    release: str
    root: str = DEFAULT_VALUES_ROOT
    values_files: tuple[Path, ...] = ()
    traffic_key: str = ""
    enabled_key: str = ""
    canary_tag_key: str = ""
    stable_tag_key: str = ""
    virtual_service: str = ""
    subsets: Mapping[str, str] = field(
        default_factory=lambda: {"stable": "stable", "canary": "canary"})
    version_label: str = "version"
    timeout_s: float = 60.0  # a Deployment's rollout, a step's data plane

    def __post_init__(self) -> None:
        names = list(self.subsets)
        if sorted(self.subsets.values()) != ["canary", "stable"] or any(not n for n in names):
            raise ConfigError(f"subsets {dict(self.subsets)}: give two distinct, non-empty "
                              "subset names, stable's then canary's (--chart-subsets v1,v2)")
        if not (Path(self.chart) / "Chart.yaml").is_file():
            raise ConfigError(f"chart {self.chart} has no Chart.yaml; pass the folder of a "
                              "Helm chart (--chart DIR)")
        for values in self.values_files:
            if not Path(values).is_file():
                raise ConfigError(f"values file {values} does not exist")
        if "." not in self.root and not self.stable_tag_key:
            raise ConfigError(f"values root {self.root!r} has no parent key for the stable "
                              "image tag; pass --chart-stable-tag-key")

    def key(self, name: str) -> str:
        """The dotted values key of ``traffic``, ``enabled``, ``canary_tag`` or
        ``stable_tag``."""
        explicit = getattr(self, f"{name}_key")
        if explicit:
            return str(explicit)
        parent = self.root.rpartition(".")[0]
        return {"traffic": f"{self.root}.trafficPercentage",
                "enabled": f"{self.root}.enabled",
                "canary_tag": f"{self.root}.image.tag",
                "stable_tag": f"{parent}.image.tag"}[name]


@dataclass(frozen=True)
class ReleaseObjects:
    """The objects of a release a canary watches."""

    deployments: dict[str, str]  # version (stable, canary) -> Deployment name
    virtual_service: str


def _subset_selectors(docs: list[dict[str, Any]], spec: ChartSpec) -> dict[str, dict[str, str]]:
    """Version -> the pod labels its DestinationRule subset selects. Without a
    DestinationRule in the release, the subset's name as the ``version_label`` value."""
    selectors: dict[str, dict[str, str]] = {}
    for doc in docs:
        if doc.get("kind") != "DestinationRule":
            continue
        for subset in (doc.get("spec") or {}).get("subsets") or []:
            version = spec.subsets.get(str(subset.get("name", "")))
            if version is not None and subset.get("labels"):
                selectors[version] = {str(k): str(v) for k, v in subset["labels"].items()}
    for name, version in spec.subsets.items():
        selectors.setdefault(version, {spec.version_label: name})
    return selectors


def release_objects(manifest: str, spec: ChartSpec) -> ReleaseObjects:
    """Find each version's Deployment (the one whose pods its subset selects) and the
    VirtualService in a release's manifest.

    Raises:
        ConfigError: No stable Deployment, several for one version, or several
            VirtualServices and none named; each names the option that settles it.
    """
    docs = load_documents(manifest)
    selectors = _subset_selectors(docs, spec)
    found: dict[str, list[str]] = {}
    names: list[str] = []
    services: list[str] = []
    for doc in docs:
        kind, name = doc.get("kind"), str(doc.get("metadata", {}).get("name", ""))
        if kind == "Deployment":
            names.append(name)
            labels = _pod_labels(doc)
            for version, selector in selectors.items():
                if selector and all(labels.get(k) == v for k, v in selector.items()):
                    found.setdefault(version, []).append(name)
        elif kind == "VirtualService":
            services.append(name)
    many = {v: n for v, n in found.items() if len(n) > 1}
    if many:
        raise ConfigError(f"release {spec.release}: several Deployments run one version "
                          f"({many}); a canary follows one Deployment per version: label "
                          "the pods apart or name the subsets with --chart-subsets")
    if "stable" not in found:
        raise ConfigError(
            f"release {spec.release}: no Deployment has pods with the labels the stable "
            f"subset selects ({selectors.get('stable')}; Deployments: {names}); name the "
            "chart's subsets with --chart-subsets STABLE,CANARY, or the pod label with "
            "--chart-version-label")
    if spec.virtual_service:
        chosen = spec.virtual_service
    elif len(services) > 1:
        raise ConfigError(f"release {spec.release} renders VirtualServices {services}; "
                          "name the one that splits the traffic with --chart-virtual-service")
    else:
        chosen = services[0] if services else ""
    return ReleaseObjects({v: n[0] for v, n in found.items()}, chosen)


def _pod_labels(deployment: Mapping[str, Any]) -> dict[str, str]:
    template = deployment.get("spec", {}).get("template", {})
    return dict(template.get("metadata", {}).get("labels") or {})


def deployment_status(deployment: Mapping[str, Any] | None, *,
                      min_replicas: int = 0) -> str | None:
    """None when the Deployment is rolled out and Available with at least
    ``min_replicas`` replicas, else why not."""
    if deployment is None:
        return "does not exist"
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    wanted = int(spec.get("replicas", 1))
    if wanted < min_replicas:
        return f"scaled to {wanted} replicas"
    if int(status.get("observedGeneration", 0)) < int(deployment["metadata"].get(
            "generation", 0)):
        return "its controller has not seen the latest spec yet"
    for count in ("updatedReplicas", "availableReplicas", "readyReplicas"):
        if int(status.get(count, 0)) < wanted:
            return f"{status.get(count, 0)} of {wanted} {count}"
    if int(status.get("replicas", 0)) > wanted:
        return f"{status.get('replicas')} replicas while rolling out, {wanted} wanted"
    available = [c for c in status.get("conditions", []) if c.get("type") == "Available"]
    if not available or available[0].get("status") != "True":
        return "condition Available is not True"
    return None


def image_tags(deployment: Mapping[str, Any]) -> list[str]:
    """The image tag of each container of the Deployment ('' for an untagged image);
    digests (``@sha256:...``) are not tags."""
    spec = deployment.get("spec", {}).get("template", {}).get("spec", {})
    tags = []
    for container in spec.get("containers") or []:
        image = str(container.get("image", "")).split("@")[0]
        name, _, tag = image.rpartition(":")
        tags.append(tag if name and "/" not in tag else "")
    return tags
