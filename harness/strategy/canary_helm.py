"""The end checks of a Helm-driven canary: what the cluster says after the decision.

* ``virtual_service_followed``: at every weight change the VirtualService routed exactly
  the weights the values asked for (the per-step records of the HelmRouter);
* after a rollback, ``canary_deployment_kept``: the canary Deployment still exists with
  all its replicas Available (kept for debugging, as the design asks) and the
  VirtualService routes everything to stable;
* after a promotion, ``stable_tag_promoted``: the stable Deployment runs the canary's
  image tag, and the VirtualService routes everything to stable.
"""

from __future__ import annotations

from harness.checks.result import CheckResult
from harness.deploy.chart import deployment_status, image_tag
from harness.traffic.helm_router import HelmRouter
from harness.traffic.virtualservice import ALL_STABLE


def helm_end_checks(helm: HelmRouter, *, outcome: str, canary_tag: str) -> list[CheckResult]:
    steps = helm.steps
    bad = [s for s in steps if not s.get("ok")]
    checks = [CheckResult(
        "virtual_service_followed", bool(steps) and not bad,
        f"{len(steps) - len(bad)} of {len(steps)} weight changes rendered exactly the "
        "weights asked for" + (f"; first mismatch at {bad[0]['weight']} %: expected "
                               f"{bad[0]['expected']}, found {bad[0]['virtual_service']}"
                               if bad else ""),
        {"steps": steps, "release": helm.chart.release, "namespace": helm.namespace})]
    weights = helm.virtual_service_weights() if helm.canary_enabled else dict(ALL_STABLE)
    if outcome in ("rolled_back", "aborted"):
        canary = helm.deployment("canary")
        status = deployment_status(canary, min_replicas=1)
        ok = status is None and weights == ALL_STABLE
        replicas = (canary or {}).get("status", {}).get("availableReplicas", 0)
        kept = f"kept with {replicas} available replicas" if status is None else status
        checks.append(CheckResult(
            "canary_deployment_kept", ok,
            f"canary Deployment {kept}; VirtualService routes {weights}",
            {"deployment": (canary or {}).get("metadata", {}).get("name", ""),
             "status": (canary or {}).get("status", {}), "virtual_service": weights}))
    elif outcome == "promoted":
        stable = helm.deployment("stable")
        tag = image_tag(stable) if stable else ""
        status = deployment_status(stable, min_replicas=1)
        ok = tag == canary_tag and status is None and weights == ALL_STABLE
        checks.append(CheckResult(
            "stable_tag_promoted", ok,
            f"stable Deployment runs tag {tag!r} (canary's: {canary_tag!r}), "
            f"{'available' if status is None else status}; VirtualService routes {weights}",
            {"deployment": (stable or {}).get("metadata", {}).get("name", ""),
             "image_tag": tag, "virtual_service": weights,
             "helm_values": helm.helm.values(helm.chart.release)}))
    return checks
