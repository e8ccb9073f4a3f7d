"""Helm's command lines, against a fake helm that records its arguments."""

import json

import pytest

from harness.kubernetes.helm import Helm, HelmError


@pytest.fixture
def fake_helm(tmp_path):
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "fake-helm"
    script.write_text(f"""#!/usr/bin/env python3
import json, sys
with open({str(log)!r}, "a") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
if "fail" in sys.argv:
    sys.stderr.write("Error: UPGRADE FAILED: boom\\n")
    sys.exit(1)
print("{{}}")
""")
    script.chmod(0o755)
    helm = Helm(str(script), kubeconfig="/k/config", namespace="ns", kube_context="ctx")
    return helm, lambda: [json.loads(line) for line in log.read_text().splitlines()]


def test_upgrade_types_values_and_targets_the_namespace(fake_helm, tmp_path):
    helm, calls = fake_helm
    helm.upgrade("rel", tmp_path, install=True, reuse_values=True,
                 values_files=[tmp_path / "v.yaml"],
                 set_values={"a.traffic": 10, "a.enabled": True, "a.tag": "1.10"})
    args = calls()[0]
    assert args[:3] == ["upgrade", "rel", str(tmp_path)]
    assert {"--install", "--create-namespace", "--reuse-values"} <= set(args)
    assert "a.traffic=10" in args and "a.enabled=true" in args
    assert args[args.index("a.tag=1.10") - 1] == "--set-string", "a tag stays a string"
    assert args[-6:] == ["--kubeconfig", "/k/config", "--namespace", "ns",
                         "--kube-context", "ctx"]


def test_a_refusal_carries_helms_message(fake_helm, tmp_path):
    helm, _ = fake_helm
    with pytest.raises(HelmError, match="UPGRADE FAILED: boom"):
        helm.upgrade("fail", tmp_path)
