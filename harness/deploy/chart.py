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

from harness.errors import ConfigError
from harness.kubernetes.client import load_documents


@dataclass(frozen=True)
class ChartSpec:
    """Where the chart is and how its values drive a canary."""

    chart: Path
    release: str
    root: str = "dataTier.canary"
    values_files: tuple[Path, ...] = ()
    traffic_key: str = ""
    enabled_key: str = ""
    canary_tag_key: str = ""
    stable_tag_key: str = ""
    virtual_service: str = ""
    subsets: Mapping[str, str] = field(
        default_factory=lambda: {"stable": "stable", "canary": "canary"})
    version_label: str = "version"

    def __post_init__(self) -> None:
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


def release_objects(manifest: str, spec: ChartSpec) -> ReleaseObjects:
    """Find the Deployments by version label and the VirtualService in a manifest.

    Raises:
        ConfigError: No stable Deployment, or several VirtualServices and none named.
    """
    docs = load_documents(manifest)
    deployments: dict[str, str] = {}
    services: list[str] = []
    for doc in docs:
        kind, name = doc.get("kind"), str(doc.get("metadata", {}).get("name", ""))
        if kind == "Deployment":
            labels = _pod_labels(doc)
            version = labels.get(spec.version_label, "")
            if version in spec.subsets.values() or version in spec.subsets:
                deployments[spec.subsets.get(version, version)] = name
        elif kind == "VirtualService":
            services.append(name)
    if "stable" not in deployments:
        raise ConfigError(
            f"release {spec.release}: no Deployment whose pods are labelled "
            f"{spec.version_label}=<stable subset> (found Deployments: "
            f"{[d['metadata']['name'] for d in docs if d.get('kind') == 'Deployment']}); "
            "label them as the design does (version: stable / version: canary)")
    if spec.virtual_service:
        chosen = spec.virtual_service
    elif len(services) > 1:
        raise ConfigError(f"release {spec.release} renders VirtualServices {services}; "
                          "name the one that splits the traffic with --chart-virtual-service")
    else:
        chosen = services[0] if services else ""
    return ReleaseObjects(deployments, chosen)


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


def image_tag(deployment: Mapping[str, Any]) -> str:
    """The tag of the Deployment's first container image ('' without one)."""
    containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get(
        "containers") or [{}]
    image = str(containers[0].get("image", ""))
    name, _, tag = image.rpartition(":")
    return tag if name and "/" not in tag else ""
