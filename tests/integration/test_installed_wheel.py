"""cutover as a team gets it: a wheel built from this checkout, installed into a fresh
virtualenv, used from a folder of their own. The CLI, the plugin, the jars in the cache,
the reference suites by name, and their own scenario folder with its results kept there.
"""

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.integration.run_root import private_run_root

CHECKOUT = Path(__file__).resolve().parents[2]

THEIR_SCENARIO = '''\
import psycopg

from harness.checks.result import CheckResult


def test_orders_table_round_trips(postgres, namespace, scenario):
    table = f'"{namespace.schema}".orders'
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
        conn.execute(f"INSERT INTO {table} VALUES (1), (2)")
        (rows,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    scenario.check(CheckResult("rows_written", rows == 2, f"{rows} rows")).require()
'''


def _run(argv, *, cwd, timeout=600):
    # the team's shell: none of this test session's CUTOVER_* settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    result = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, (f"{argv[:4]} exited {result.returncode}\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def test_a_wheel_in_a_fresh_virtualenv_runs_a_teams_own_scenarios(tmp_path):
    dist, venv, project = tmp_path / "dist", tmp_path / "venv", tmp_path / "their-repo"
    # built from a copy: setuptools leaves build/ behind, and a stale one would leak into
    # the next wheel built from the checkout
    source = tmp_path / "source"
    shutil.copytree(CHECKOUT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".tox", "build", "dist", "cutover-results", "__pycache__",
        "*.egg-info", ".mypy_cache", ".ruff_cache"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source],
         cwd=tmp_path)
    (wheel,) = dist.glob("cutover-*.whl")
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q",
          "--disable-pip-version-check", wheel], cwd=tmp_path)
    (project / "scenarios").mkdir(parents=True)
    (project / "scenarios" / "test_orders.py").write_text(THEIR_SCENARIO)
    cutover = venv / "bin" / "cutover"

    where = _run([venv / "bin" / "python", "-c", "import harness; print(harness.__file__)"],
                 cwd=project)
    assert where.stdout.startswith(str(venv)), "the wheel's engine, not the checkout's"
    installed = _run([cutover, "install"], cwd=project)
    assert "flink" in installed.stdout.lower(), installed.stdout
    assert "--cutover-provider" in _run([venv / "bin" / "pytest", "--help"], cwd=project).stdout

    reference = _run([cutover, "run", "reference", "--", "--collect-only", "-q"], cwd=project)
    assert "scenarios/test_canary_data_tier.py::" in reference.stdout, reference.stdout[-2000:]

    with private_run_root() as run_root:
        theirs = _run([cutover, "run", "scenarios", "--run-root", run_root], cwd=project)
    latest = project / "cutover-results" / "latest"
    suite = ET.parse(latest / "junit.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures"),
                                  suite.get("errors")) == ("1", "0", "0"), theirs.stdout
    assert (latest / "report.html").is_file(), theirs.stderr
    assert "scenarios/test_orders.py::test_orders_table_round_trips" in \
        (latest / "summary.json").read_text()
