"""Scenarios: the data tier's canary driven by Helm on a real Kubernetes API server, as the
canary deployment design's automation script drives it (runbook §2.2 and §3.2).

The reference chart (``fixtures/charts/data-tier``) renders the stable and canary
Deployments, the Service, the DestinationRule and the VirtualService whose weights come
from ``dataTier.canary.trafficPercentage``. Each step is ``helm upgrade --reuse-values
--set dataTier.canary.trafficPercentage=N``; the VirtualService the API server stores must
route exactly (100 - N, N), the canary Deployment must be available, and HAProxy, following
the VirtualService, must split the load that way (the one simulated link: no Envoy).

Runs with ``--cutover-provider kubernetes`` (``cutover run kubernetes``); deselected on
providers without a Kubernetes API.
"""

import pytest

from fixtures import factories
from fixtures.canary import (
    CANARY,
    CHART,
    STABLE,
    VALUES,
    check_named,
    faults_at,
    mutant_chart,
    reference_target,
    scenario_policy,
)

pytestmark = pytest.mark.kubernetes

INCREMENTS = [10, 30, 50, 75, 100]

helm_canary = factories.canary(target=reference_target, policy=scenario_policy,
                               values=VALUES, chart=CHART, name="data-tier")


def _mutant(request):
    return mutant_chart(request.getfixturevalue("tmp_path"), "istio-reads-a-renamed-key.yaml")


mutant_canary = factories.canary(target=reference_target, policy=scenario_policy,
                                 values=VALUES, chart=_mutant, name="data-tier",
                                 record_checks=False)


def test_helm_driven_canary_is_promoted(helm_canary):
    outcome = helm_canary.run()
    assert outcome.outcome == "promoted", outcome.summary()
    assert not outcome.failed, [f"{c.name}: {c.summary}" for c in outcome.failed]
    helm_steps = outcome.figures["helm_steps"]
    # 0 % at deploy, each increment, then 0 % with the promotion
    assert [s["weight"] for s in helm_steps] == [0, *INCREMENTS, 0]
    assert all(step["ok"] for step in helm_steps), helm_steps
    assert all(step["canary_available"] for step in helm_steps if step["weight"] > 0)
    # the load really split the way each VirtualService said
    assert [s["weight"] for s in outcome.steps] == [0, *INCREMENTS, 0]
    assert all(s["within_tolerance"] for s in outcome.steps), outcome.steps
    promoted = check_named(outcome, "stable_tag_promoted")
    assert CANARY in promoted.evidence["image_tags"]
    assert promoted.evidence["helm_values"] == {"dataTier.image.tag": CANARY,
                                                "dataTier.canary.trafficPercentage": 0}
    flags = helm_canary.helm.client.get(
        "v1", "ConfigMap", "data-tier-feature-flags", helm_canary.helm.namespace)
    assert flags["data"]["deployment.canary-traffic-percentage"] == "0"
    assert flags["data"]["feature.canary-version"] == CANARY


def test_helm_driven_canary_failing_at_30_percent_rolls_back_keeping_its_deployment(
        helm_canary, scenario):
    inject = faults_at(helm_canary, scenario,
                       [{"at_weight": 30, "faults": {"error_rate": 0.3}}])
    outcome = helm_canary.run(on_weight=inject)
    assert outcome.outcome == "rolled_back", outcome.summary()
    assert outcome.decided_at_weight == 30, outcome.summary()
    assert not outcome.failed, [f"{c.name}: {c.summary}" for c in outcome.failed]
    kept = check_named(outcome, "canary_deployment_kept")
    assert kept.evidence["status"]["availableReplicas"] == 1
    assert kept.evidence["virtual_service"] == {"stable": 100, "canary": 0}
    assert helm_canary.helm.helm.values("data-tier")["dataTier"]["canary"][
        "trafficPercentage"] == 0
    stable = helm_canary.helm.deployment("stable")
    assert stable["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
        f":{STABLE}"), "a rollback leaves the stable tag alone"


def test_chart_whose_virtualservice_ignores_the_traffic_is_caught_at_the_first_step(
        mutant_canary):
    outcome = mutant_canary.run()
    assert outcome.outcome == "aborted", outcome.summary()
    assert outcome.decided_at_weight == 10, "caught at the first increment"
    assert outcome.state["phase"] == "aborted"
    followed = check_named(outcome, "router_followed")
    assert not followed.ok
    assert followed.evidence["expected"] == {"stable": 90, "canary": 10}
    assert followed.evidence["found"] == {"stable": 100, "canary": 0}
    assert "does not follow dataTier.canary.trafficPercentage" in followed.summary
    rendered = check_named(outcome, "virtual_service_followed")
    assert not rendered.ok and "first mismatch at 10 %" in rendered.summary
    # nothing went past the first increment, and no request reached the canary
    assert [s["weight"] for s in mutant_canary.helm.steps] == [0, 10]
    assert all(o.slot != "canary" for o in mutant_canary.load.snapshot())
