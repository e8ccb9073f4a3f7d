"""`cutover verify bluegreen --source-migration` as a team runs it on its own files."""

import json
import subprocess
import sys
from pathlib import Path

from fixtures.reference import ACCOUNTS, product_repository
from tests.integration.run_root import private_run_root

CUTOVER = [sys.executable, "-m", "harness.cli", "verify", "bluegreen"]
POSTGRES = ACCOUNTS / "postgres"


def test_a_compatible_migration_exits_0_with_every_check(tmp_path):
    pipelines = product_repository(tmp_path, product=ACCOUNTS,
                                   changes=["accounts_add_tier"]) / "pipelines"
    with private_run_root() as run_root:
        done = subprocess.run(
            [*CUTOVER, str(pipelines), "--from", "main", "--to", "accounts_add_tier",
             "--source-ddl", str(POSTGRES / "accounts.sql"),
             "--source-migration", str(POSTGRES / "migrations" / "add_tier.sql"),
             "--records", "200", "--json", "--results", str(tmp_path / "results"),
             f"--run-root={run_root}"],
            capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    outcome = json.loads(done.stdout)
    assert outcome["outcome"] == "passed" and outcome["ended"] == "promoted"
    names = {c["name"] for c in outcome["checks"]}
    assert {"schema_change_compatible", "added_columns_carried(src_accounts_v2)",
            "nothing_lost(src_accounts_v2)", "green_untouched", "promoted"} <= names
    assert "REDEPLOY  src_accounts -> src_accounts_v2" in done.stderr
    assert Path(outcome["report"]).is_file()
