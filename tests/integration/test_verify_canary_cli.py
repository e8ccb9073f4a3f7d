"""`cutover verify canary` as a team runs it on its own service: two commands, a values
file, one line. Both reference services: the data tier (metrics, version header) and
the inventory service (no metrics endpoint, another root key, other routes)."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from fixtures.canary import VALUES, data_tier_target, seed_tables
from harness.deploy.service import healthy
from harness.stack.ports import allocate_port
from harness.wait import wait_until
from tests.integration.run_root import private_run_root

CUTOVER = [sys.executable, "-m", "harness.cli", "verify", "canary"]
POLICIES = Path(__file__).parents[2] / "fixtures" / "policies"
INVENTORY = f"{sys.executable} -m fixtures.services.inventory --port {{port}}"


def verify(tmp_path, *args, timeout=400):
    with private_run_root() as run_root:
        done = subprocess.run(
            [*CUTOVER, *args, "--json", "--results", str(tmp_path / "results"),
             f"--run-root={run_root}"], capture_output=True, text=True, timeout=timeout,
            check=False)
    outcome = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    return done, outcome


def inventory(tmp_path, canary_flags, *extra, **options):
    return verify(tmp_path, "--stable", f"{INVENTORY} --release v1",
                  "--canary", f"{INVENTORY} --release v2 {canary_flags}",
                  "--values", str(POLICIES / "inventory-values.yaml"),
                  "--values-root", "inventory.rollout", "--health", "/healthz",
                  "--requests", str(POLICIES / "inventory-requests.txt"), *extra, **options)


def test_healthy_inventory_canary_is_promoted(tmp_path):
    done, outcome = inventory(tmp_path, "")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert outcome["outcome"] == "promoted"
    assert [s["weight"] for s in outcome["steps"]][:6] == [0, 10, 30, 50, 75, 100]
    assert all(s["within_tolerance"] for s in outcome["steps"]), outcome["steps"]
    assert all(c["ok"] for c in outcome["checks"])
    assert Path(outcome["report"]).is_file()


@pytest.fixture
def running_stable():
    """A stable version the team already runs: cutover only routes to its URL."""
    port = allocate_port(purpose="inventory already running")
    process = subprocess.Popen([sys.executable, "-m", "fixtures.services.inventory",
                                "--port", str(port), "--release", "v1"])
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: healthy(url + "/healthz"), timeout_s=30, what="inventory v1 up")
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_inventory_canary_failing_at_10_percent_is_rolled_back_there(tmp_path,
                                                                     running_stable):
    done, outcome = verify(
        tmp_path, "--stable", running_stable,
        "--canary", f"{INVENTORY} --release v2 --error-rate 0.3",
        "--values", str(POLICIES / "inventory-values.yaml"),
        "--values-root", "inventory.rollout", "--health", "/healthz",
        "--requests", str(POLICIES / "inventory-requests.txt"), "--expect", "rolled_back")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert outcome["decided_at_weight"] == 10
    assert outcome["summary"].startswith("rolled back at 10 %")
    checks = {c["name"]: c for c in outcome["checks"]}
    assert checks["canary_kept_for_debugging"]["ok"]
    assert checks["canary_no_traffic_after_rollback"]["ok"]
    assert outcome["figures"]["steps"] >= 2
    resources = checks["canary_resources_within_limits"]
    assert resources["ok"] and "of the limits" in resources["summary"]
    assert "CPU p90" in resources["summary"]


def test_expecting_promotion_of_a_failing_canary_exits_1(tmp_path):
    done, outcome = inventory(tmp_path, "--error-rate 0.5")
    assert done.returncode == 1, done.stderr[-3000:]
    assert outcome["outcome"] == "rolled_back"


def data_tier_args(tmp_path, postgres, iceberg, namespace):
    """The data tier as a team passes it, with the parity gate of its two backends (the
    session stack's PostgreSQL and Iceberg, which the run's own stack does not hold)."""
    identifier = seed_tables(postgres=postgres, iceberg=iceberg, namespace=namespace)
    target = data_tier_target(postgres=postgres, iceberg=iceberg, schema=namespace.schema,
                              identifier=identifier)
    requests = tmp_path / "requests.txt"
    requests.write_text("".join(f"{m} {p}\n" for m, p, _ in target.requests))
    return ["--stable", shlex.join(target.stable.command),
            "--canary", shlex.join(target.canary.command), "--values", str(VALUES),
            "--compression-factor", "150", "--approve", "--requests", str(requests),
            "--version-header", "X-Data-Tier-Version", "--name", "data-tier",
            "--parity", f"{namespace.schema}.ticker_sentiment={identifier}",
            "--parity-key", "ticker", "--parity-dsn", postgres.dsn,
            "--parity-catalog", iceberg.catalog, "--parity-catalog-uri",
            iceberg.sqlalchemy_uri, "--parity-warehouse", iceberg.warehouse]


def test_data_tier_through_the_cli_passes_its_parity_gate_and_is_promoted(
        tmp_path, postgres, iceberg, namespace):
    done, outcome = verify(tmp_path, *data_tier_args(tmp_path, postgres, iceberg, namespace))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert outcome["outcome"] == "promoted"
    assert all(c["ok"] for c in outcome["checks"]), outcome["checks"]
    gate = outcome["checks"][0]
    assert gate["name"] == "parity_ticker_sentiment" and "agree: 60 rows" in gate["summary"]


def test_backends_that_differ_block_the_canary_with_the_key(tmp_path, postgres, iceberg,
                                                            namespace):
    args = data_tier_args(tmp_path, postgres, iceberg, namespace)
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:  # PostgreSQL moved on
        conn.execute(f'UPDATE "{namespace.schema}".ticker_sentiment SET score_count = 99 '
                     "WHERE ticker = 'T007'".encode())
    done, outcome = verify(tmp_path, *args, "--parity-budget-s", "2", "--expect", "blocked")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert outcome["outcome"] == "blocked" and outcome["decided_at_weight"] == 0
    (check,) = outcome["checks"]
    assert not check["ok"] and "unchanged in PostgreSQL" in check["summary"]
    (difference,) = check["evidence"]["differences"]
    assert difference["key"] == {"ticker": "T007"} and difference["columns"] == ["score_count"]
    assert difference["left"]["score_count"] == 99 and difference["right"]["score_count"] == 17


def test_bad_input_exits_2_before_anything_starts(tmp_path):
    done, _ = verify(tmp_path, "--stable", "python -m mysvc", "--canary",
                     "http://127.0.0.1:1", "--values", str(VALUES), timeout=60)
    assert done.returncode == 2
    assert "has no {port}" in done.stderr
    done, _ = verify(tmp_path, "--stable", INVENTORY, "--canary", INVENTORY,
                     "--values", str(POLICIES / "inventory-values.yaml"), timeout=60)
    assert done.returncode == 2
    assert "dataTier.canary" in done.stderr and "--values-root" in done.stderr
    done, _ = verify(tmp_path, "--stable", INVENTORY, "--canary", INVENTORY,
                     "--values", str(POLICIES / "inventory-values.yaml"),
                     "--values-root", "inventory.rollout", "--parity", "t=u", timeout=60)
    assert done.returncode == 2 and "SCHEMA.RELATION=DB.TABLE" in done.stderr
    done, _ = verify(tmp_path, "--stable", INVENTORY, "--canary", INVENTORY,
                     "--values", str(POLICIES / "inventory-values.yaml"),
                     "--values-root", "inventory.rollout", "--expect", "blocked", timeout=60)
    assert done.returncode == 2 and "--expect blocked needs a gate" in done.stderr
    done, _ = verify(tmp_path, "--stable", INVENTORY, "--canary", INVENTORY,
                     "--values", str(POLICIES / "inventory-values.yaml"),
                     "--values-root", "inventory.rollout", "--chart", str(tmp_path),
                     timeout=60)
    assert done.returncode == 2 and "has no Chart.yaml" in done.stderr


@pytest.mark.kubernetes
def test_inventory_canary_driven_by_its_own_chart_is_promoted(tmp_path):
    """A chart cutover has never seen: other keys, subsets v1/v2, a VirtualService that
    always exists with a matched route first. Only the options say so."""
    chart = Path(__file__).parents[2] / "fixtures" / "charts" / "inventory"
    done, outcome = inventory(tmp_path, "", "--chart", str(chart), "--chart-subsets",
                              "v1,v2", "--chart-release", "inventory",
                              "--chart-values", str(chart / "values.yaml"),
                              "--chart-stable-tag-key", "inventory.image.tag",
                              "--stable-version", "v1", "--canary-version", "v2",
                              timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert outcome["outcome"] == "promoted"
    helm_steps = outcome["figures"]["helm_steps"]
    assert [s["weight"] for s in helm_steps] == [0, 10, 30, 50, 75, 100, 0]
    assert all(s["virtual_service"] == s["expected"] for s in helm_steps)
    promoted = [c for c in outcome["checks"] if c["name"] == "stable_tag_promoted"]
    assert promoted and promoted[0]["ok"], outcome["checks"]
    assert "v2" in promoted[0]["evidence"]["image_tags"]
