"""The end checks of a Helm-driven canary: what the cluster says after the decision.

* ``virtual_service_followed``: at every weight change the VirtualService routed exactly
  the weights the values asked for, and the step completed (the HelmRouter's records);
* after a rollback or an abort, ``canary_deployment_kept``: the canary Deployment still
  exists with at least one replica Available (kept for debugging, as the design asks)
  and the VirtualService routes everything to stable;
* after a promotion, ``stable_tag_promoted``: the stable Deployment runs the canary's
  image tag, and the VirtualService routes everything to stable.

A check that cannot read the cluster fails, with the error as its evidence.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.checks.result import CheckResult
from harness.deploy.chart import deployment_status, image_tags
from harness.errors import CutoverError
from harness.traffic.helm_router import HelmRouter
from harness.traffic.virtualservice import ALL_STABLE


def _guarded(name: str, make: Callable[[], CheckResult]) -> CheckResult:
    try:
        return make()
    except CutoverError as exc:
        return CheckResult(name, False, f"could not read the cluster: {exc}",
                           {"error": str(exc)})


def _followed(helm: HelmRouter) -> CheckResult:
    steps = helm.steps
    bad = [s for s in steps if not s.get("ok")]
    summary = (f"{len(steps) - len(bad)} of {len(steps)} weight changes rendered exactly "
               "the weights asked for and completed")
    if bad:
        first = bad[0]
        if first.get("virtual_service") != first["expected"]:
            summary += (f"; first mismatch at {first['weight']} %: expected "
                        f"{first['expected']}, found {first['virtual_service']}")
        else:
            summary += f"; the step to {first['weight']} % failed: {first.get('failed')}"
    return CheckResult("virtual_service_followed", bool(steps) and not bad, summary,
                       {"steps": steps, "release": helm.chart.release,
                        "namespace": helm.namespace})


def _weights(helm: HelmRouter) -> dict[str, int] | None:
    return helm.virtual_service_weights() if helm.canary_enabled else dict(ALL_STABLE)


def _kept(helm: HelmRouter) -> CheckResult:
    canary = helm.deployment("canary")
    status = deployment_status(canary, min_replicas=1)
    weights = _weights(helm)
    replicas = (canary or {}).get("status", {}).get("availableReplicas", 0)
    kept = f"kept with {replicas} available replicas" if status is None else status
    return CheckResult(
        "canary_deployment_kept", status is None and weights == ALL_STABLE,
        f"canary Deployment {kept}; VirtualService routes {weights}",
        {"deployment": (canary or {}).get("metadata", {}).get("name", ""),
         "status": (canary or {}).get("status", {}), "virtual_service": weights})


def _promoted(helm: HelmRouter, canary_tag: str) -> CheckResult:
    stable = helm.deployment("stable")
    tags = image_tags(stable) if stable else []
    status = deployment_status(stable, min_replicas=1)
    weights = _weights(helm)
    ok = canary_tag in tags and status is None and weights == ALL_STABLE
    values = helm.helm.values(helm.chart.release)
    used = {key: _lookup(values, key) for key in
            (helm.chart.key("stable_tag"), helm.chart.key("traffic"))}  # never all values
    return CheckResult(
        "stable_tag_promoted", ok,
        f"stable Deployment runs tags {tags} (canary's: {canary_tag!r}), "
        f"{'available' if status is None else status}; VirtualService routes {weights}",
        {"deployment": (stable or {}).get("metadata", {}).get("name", ""),
         "image_tags": tags, "virtual_service": weights, "helm_values": used})


def _lookup(values: dict[str, object], dotted: str) -> object:
    node: object = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def helm_end_checks(helm: HelmRouter, *, outcome: str, canary_tag: str) -> list[CheckResult]:
    checks = [_followed(helm)]
    if outcome in ("rolled_back", "aborted"):
        checks.append(_guarded("canary_deployment_kept", lambda: _kept(helm)))
    elif outcome == "promoted":
        checks.append(_guarded("stable_tag_promoted", lambda: _promoted(helm, canary_tag)))
    return checks
