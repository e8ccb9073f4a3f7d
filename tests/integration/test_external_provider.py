"""The external provider: a scenario of the local provider runs unchanged against a stack
that `cutover up` started, found only through `cutover endpoints`."""

import json
import subprocess
import sys

import psutil

from harness.traffic.haproxy import HaproxyRouter
from tests.integration.run_root import private_run_root

SERVICES = "postgres,iceberg,haproxy,prometheus"


def _cutover(*args, run_root):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args, "--run-root",
                           str(run_root)], capture_output=True, text=True, timeout=600)


def test_a_local_scenario_runs_unchanged_on_the_endpoints_of_a_running_stack(tmp_path):
    with private_run_root() as run_root:
        up = _cutover("up", "--json", "--services", SERVICES, run_root=run_root)
        assert up.returncode == 0, up.stderr
        run_id = json.loads(up.stdout)["run_id"]
        try:
            endpoints = _cutover("endpoints", "--run", run_id, run_root=run_root)
            assert endpoints.returncode == 0, endpoints.stderr
            assert "[haproxy]" in endpoints.stdout and "[postgres]" in endpoints.stdout
            file = tmp_path / "endpoints.toml"
            file.write_text(endpoints.stdout)
            other_root = tmp_path / "runs"  # the scenario's own run root: starts nothing
            scenario = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                 "scenarios/test_canary_data_tier.py::test_healthy_canary_is_promoted",
                 "--cutover-provider=external", f"--cutover-endpoints={file}",
                 f"--cutover-run-root={other_root}",
                 f"--cutover-results-dir={tmp_path / 'results'}"],
                capture_output=True, text=True, timeout=600)
            assert scenario.returncode == 0, scenario.stdout[-3000:] + scenario.stderr[-2000:]
            assert "1 passed" in scenario.stdout
            state = json.loads(next(other_root.glob("runs/*/stack.json")).read_text())
            assert state["provider"] == "external"
            assert not list(other_root.glob("runs/*/postgres")), "it started no service"
            haproxy = json.loads(up.stdout)["services"]["haproxy"]
            served = HaproxyRouter(haproxy["admin_socket"], haproxy["backend"]).requests()
            assert served["stable"] > 0 and served["canary"] > 0, \
                "the scenario's load went through the running stack's router"
            pids = [p for s in json.loads(up.stdout)["services"].values() for p in s["pids"]]
            assert all(psutil.pid_exists(p) for p in pids), "nothing of it was stopped"
        finally:
            down = _cutover("down", "--run", run_id, run_root=run_root)
            assert down.returncode == 0, down.stderr


def test_a_service_missing_from_the_endpoints_file_names_the_fix(tmp_path):
    file = tmp_path / "endpoints.toml"
    file.write_text('[kafka]\nbootstrap_servers = "127.0.0.1:9"\n')
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "tests/integration/test_postgres.py", "--cutover-provider=external",
         f"--cutover-endpoints={file}", f"--cutover-run-root={tmp_path / 'runs'}",
         f"--cutover-results-dir={tmp_path / 'results'}"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "service postgres is not in the endpoints file" in result.stdout
    assert "add a [postgres] table" in result.stdout
