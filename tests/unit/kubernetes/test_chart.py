from pathlib import Path

import pytest
import yaml

from harness.deploy.chart import ChartSpec, deployment_status, image_tags, release_objects
from harness.errors import ConfigError


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: 0.1.0\n")
    return tmp_path


def deployment(name, version, *, image="svc:stable"):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"template": {"metadata": {"labels": {"version": version}},
                                  "spec": {"containers": [{"image": image}]}}}}


def test_keys_default_to_the_design_under_the_root(chart):
    spec = ChartSpec(chart=chart, release="r", root="dataTier.canary")
    assert spec.key("traffic") == "dataTier.canary.trafficPercentage"
    assert spec.key("enabled") == "dataTier.canary.enabled"
    assert spec.key("canary_tag") == "dataTier.canary.image.tag"
    assert spec.key("stable_tag") == "dataTier.image.tag"
    custom = ChartSpec(chart=chart, release="r", root="svc.canary", traffic_key="svc.weight")
    assert custom.key("traffic") == "svc.weight"


def test_a_folder_without_chart_yaml_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"no Chart\.yaml"):
        ChartSpec(chart=tmp_path, release="r")


def test_release_objects_by_version_label(chart):
    manifest = yaml.safe_dump_all([
        deployment("svc", "stable"), deployment("svc-canary", "canary"),
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
         "metadata": {"name": "svc"}}])
    objects = release_objects(manifest, ChartSpec(chart=chart, release="r"))
    assert objects.deployments == {"stable": "svc", "canary": "svc-canary"}
    assert objects.virtual_service == "svc"


def test_without_a_stable_deployment_the_error_says_how_to_label(chart):
    manifest = yaml.safe_dump_all([deployment("svc", "blue")])
    with pytest.raises(ConfigError, match="--chart-subsets"):
        release_objects(manifest, ChartSpec(chart=chart, release="r"))


def test_two_virtualservices_need_a_name(chart):
    vs = [{"kind": "VirtualService", "metadata": {"name": n}} for n in ("a", "b")]
    manifest = yaml.safe_dump_all([deployment("svc", "stable"), *vs])
    with pytest.raises(ConfigError, match="--chart-virtual-service"):
        release_objects(manifest, ChartSpec(chart=chart, release="r"))
    named = ChartSpec(chart=chart, release="r", virtual_service="b")
    assert release_objects(manifest, named).virtual_service == "b"


def rolled(replicas, *, available=None, generation=2, observed=2, condition="True"):
    available = replicas if available is None else available
    return {"metadata": {"generation": generation}, "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "replicas": replicas,
                       "updatedReplicas": replicas, "readyReplicas": available,
                       "availableReplicas": available,
                       "conditions": [{"type": "Available", "status": condition}]}}


def test_deployment_status():
    assert deployment_status(rolled(2)) is None
    assert deployment_status(None) == "does not exist"
    assert "1 of 2 availableReplicas" in deployment_status(rolled(2, available=1))
    assert "not seen the latest spec" in deployment_status(rolled(2, observed=1))
    assert "Available is not True" in deployment_status(rolled(1, condition="False"))


def test_image_tags():
    assert image_tags(deployment("a", "stable", image="reg:5000/team/svc:1.2")) == ["1.2"]
    assert image_tags(deployment("a", "stable", image="reg:5000/svc")) == [""]
    assert image_tags(deployment("a", "stable", image="svc:1.2@sha256:abc")) == ["1.2"]
    assert image_tags(deployment("a", "stable", image="svc@sha256:abc")) == [""]


def test_subsets_must_be_two_distinct_names(chart):
    with pytest.raises(ConfigError, match="two distinct"):
        ChartSpec(chart=chart, release="r", subsets={"v1": "stable", "": "canary"})
    with pytest.raises(ConfigError, match="two distinct"):
        ChartSpec(chart=chart, release="r", subsets={"v1": "stable"})


def test_the_destination_rule_decides_which_pods_a_subset_selects(chart):
    rule = {"kind": "DestinationRule", "metadata": {"name": "svc"},
            "spec": {"host": "svc", "subsets": [
                {"name": "primary", "labels": {"track": "main"}},
                {"name": "next", "labels": {"track": "next"}}]}}
    main, nxt = deployment("svc", "x"), deployment("svc-next", "x")
    main["spec"]["template"]["metadata"]["labels"] = {"app": "svc", "track": "main"}
    nxt["spec"]["template"]["metadata"]["labels"] = {"app": "svc", "track": "next"}
    spec = ChartSpec(chart=chart, release="r",
                     subsets={"primary": "stable", "next": "canary"})
    objects = release_objects(yaml.safe_dump_all([rule, main, nxt]), spec)
    assert objects.deployments == {"stable": "svc", "canary": "svc-next"}


def test_two_deployments_of_one_version_are_refused(chart):
    manifest = yaml.safe_dump_all([deployment("api", "stable"), deployment("worker", "stable")])
    with pytest.raises(ConfigError, match="several Deployments run one version"):
        release_objects(manifest, ChartSpec(chart=chart, release="r"))
