import json
import subprocess
import sys

import psutil

from harness.config import load_config
from tests.integration.run_root import private_run_root


def _cutover(*args, run_root):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args, "--run-root",
                           str(run_root)], capture_output=True, text=True, timeout=300)


def _running(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_up_then_down_leaves_no_process_behind():
    with private_run_root() as run_root:
        up = _cutover("up", "--json", run_root=run_root)
        assert up.returncode == 0, up.stderr
        state = json.loads(up.stdout)
        pids = [pid for s in state["services"].values() for pid in s["pids"]]
        children = [c.pid for p in pids for c in psutil.Process(p).children(recursive=True)]
        expected = {"postgres", "kafka", "iceberg", "flink", "registry", "connect", "haproxy",
                    "prometheus"}
        if load_config()["network_faults"]:  # Flink reaches Kafka through Toxiproxy
            expected.add("toxiproxy")
        assert set(state["services"]) == expected
        assert len(state["services"]["flink"]["pids"]) == 3  # JobManager, TaskManager, gateway
        assert all(_running(p) for p in pids)
        assert "ready" in up.stderr  # progress is shown while services start

        status = _cutover("status", "--json", run_root=run_root)
        assert [s["run_id"] for s in json.loads(status.stdout)] == [state["run_id"]]

        down = _cutover("down", run_root=run_root)
        assert down.returncode == 0, down.stderr
        assert "stopped" in down.stdout
        left = [p for p in pids + children if _running(p)]
        assert left == [], f"processes left behind: {left}"
        assert "no stack is running" in _cutover("status", run_root=run_root).stdout


def test_down_with_unknown_run_names_the_fix():
    with private_run_root() as run_root:
        result = _cutover("down", "--run", "run-nope", run_root=run_root)
    assert result.returncode == 2
    assert "cutover status" in result.stderr


def test_unknown_provider_lists_known_ones():
    with private_run_root() as run_root:
        result = _cutover("up", "--provider", "kubernets", run_root=run_root)
    assert result.returncode == 2
    assert "unknown provider 'kubernets'" in result.stderr
    assert "local" in result.stderr
