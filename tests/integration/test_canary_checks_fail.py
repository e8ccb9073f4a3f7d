"""Every canary check can fail: a real fault on the stack breaks each one, and the check
says so with its evidence. The inventory service, checks not recorded (they are meant to
fail here), asserted on instead."""

import os
import signal
import sys
from pathlib import Path

import httpx
import yaml

from fixtures import factories

POLICIES = Path(__file__).parents[2] / "fixtures" / "policies"
SERVICE = f"{sys.executable} -m fixtures.services.inventory --port {{port}}"


def values_with(tmp_root, name, change):
    values = yaml.safe_load((POLICIES / "inventory-values.yaml").read_text())
    change(values["inventory"]["rollout"])
    path = tmp_root / name
    path.write_text(yaml.safe_dump(values))
    return path


def tiny_limits(rollout):
    rollout["resources"]["limits"] = {"cpu": "1m", "memory": "1Mi"}


def served_at_most_one(rollout):
    rollout["cutover"]["metrics"] = [{
        "name": "router_responses",
        "query": 'sum(haproxy_server_http_responses_total{proxy="service",server="{slot}"})',
        "max": 1}]


ROOT = Path(os.environ.get("TMPDIR", "/tmp")) / f"cutover-check-values-{os.getpid()}"
ROOT.mkdir(parents=True, exist_ok=True)


def inventory(values, **extra):
    return factories.canary(
        stable=f"{SERVICE} --release v1", canary=f"{SERVICE} --release v2", values=values,
        values_root="inventory.rollout", health="/healthz",
        requests=POLICIES / "inventory-requests.txt", name="inventory",
        record_checks=False, **extra)


tampered = inventory(values_with(ROOT, "tiny-limits.yaml", tiny_limits))
faulty = inventory(POLICIES / "inventory-values.yaml")
judged = inventory(values_with(ROOT, "template.yaml", served_at_most_one))


def failed(outcome):
    return {c.name: c for c in outcome.checks if not c.ok}


def test_a_router_split_behind_the_controllers_back_and_tiny_limits_fail(tampered):
    def on_weight(weight):  # someone edits the VirtualService by hand at 30 %
        if weight == 30:
            tampered.router.set_weights({"stable": 40, "canary": 60})

    outcome = tampered.run(on_weight=on_weight)
    bad = failed(outcome)
    split = bad["canary_weight_split"]
    assert "30 %: " in split.summary
    # The hand-set split is off at 30 %; a neighbouring step whose window caught a few of
    # its requests may be off too, so only the 30 % step is asserted.
    off = {s["weight"]: s for s in split.evidence["steps"] if not s["within_tolerance"]}
    assert 30 in off and off[30]["observed_pct"] > 45, off
    resources = bad["canary_resources_within_limits"]
    assert "of its limit" in resources.summary and resources.evidence["usage"]


def test_requests_lost_to_a_hanging_canary_fail_every_request_answered(faulty):
    def on_weight(weight):  # slower than the load's 5 s client timeout
        if weight == 10:
            httpx.put(faulty.deployer.slots["canary"].url + "/admin/faults",
                      json={"latency_ms": 6000}, timeout=5).raise_for_status()

    outcome = faulty.run(on_weight=on_weight)
    assert outcome.outcome == "rolled_back", outcome.summary()
    lost = failed(outcome)["canary_every_request_answered"]
    assert lost.evidence["unanswered"] > 0 and "got no answer" in lost.summary


def test_a_crashed_canary_fails_kept_for_debugging(faulty):
    def on_weight(weight):
        if weight == 10:
            os.kill(faulty.deployer.slots["canary"].process.pid, signal.SIGKILL)

    outcome = faulty.run(on_weight=on_weight)
    assert outcome.outcome == "rolled_back", outcome.summary()
    kept = failed(outcome)["canary_kept_for_debugging"]
    assert "is gone" in kept.summary and kept.evidence["alive"] is False


def test_a_template_out_of_range_rolls_the_canary_back(judged):
    outcome = judged.run()
    assert outcome.outcome == "rolled_back", outcome.summary()
    assert outcome.decided_at_weight == 10
    assert "canary router_responses" in outcome.reason and "> max 1" in outcome.reason
