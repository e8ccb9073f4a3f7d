"""The checks of a Helm-driven canary can fail: a real fault on the cluster breaks each
one, and the check says so with its evidence, at once. Checks not recorded (they are
meant to fail here), asserted on instead."""

import pytest

from fixtures import factories
from fixtures.canary import (
    CANARY,
    CHART,
    VALUES,
    check_named,
    faults_at,
    mutant_chart,
    reference_target,
    scenario_policy,
)

pytestmark = pytest.mark.kubernetes


def _pinned(request):
    return mutant_chart(request.getfixturevalue("tmp_path"),
                        "deployment-pins-the-stable-tag.yaml", template="deployment.yaml")


pinned_canary = factories.canary(target=reference_target, policy=scenario_policy,
                                 values=VALUES, chart=_pinned, name="data-tier",
                                 record_checks=False)
idle_canary = factories.canary(target=reference_target, policy=scenario_policy,
                               values=VALUES, chart=CHART, name="data-tier",
                               record_checks=False)


def test_a_chart_whose_stable_deployment_pins_its_tag_fails_the_promotion(pinned_canary):
    outcome = pinned_canary.run()
    assert outcome.outcome == "promoted", outcome.summary()
    promoted = check_named(outcome, "stable_tag_promoted")
    assert not promoted.ok
    assert promoted.evidence["image_tags"] == ["stable"]
    assert promoted.evidence["helm_values"]["dataTier.image.tag"] == CANARY
    assert f"(canary's: {CANARY!r})" in promoted.summary


def test_a_canary_scaled_to_zero_after_its_rollback_fails_the_kept_check(idle_canary,
                                                                         scenario):
    """An autoscaler that scales an idle canary to zero (KEDA's scale-to-zero, say)
    destroys the evidence the rollback must keep for debugging."""
    inject = faults_at(idle_canary, scenario,
                       [{"at_weight": 30, "faults": {"error_rate": 0.3}}])
    zeros = []

    def on_weight(weight):
        inject(weight)
        if weight == 0:
            zeros.append(weight)
            if len(zeros) == 2:  # the 0 % after the rollback, before the end checks
                helm = idle_canary.helm
                name = helm.deployment("canary")["metadata"]["name"]
                helm.client.request(
                    "PATCH", helm.client.path("apps/v1", "Deployment",
                                              namespace=helm.namespace, name=name)
                    + "/scale", json={"spec": {"replicas": 0}},
                    headers={"Content-Type": "application/merge-patch+json"})

    outcome = idle_canary.run(on_weight=on_weight)
    assert outcome.outcome == "rolled_back", outcome.summary()
    kept = check_named(outcome, "canary_deployment_kept")
    assert not kept.ok
    assert "scaled to 0 replicas" in kept.summary
    assert kept.evidence["deployment"] == "data-tier-canary"
