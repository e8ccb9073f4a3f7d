"""`cutover verify bluegreen` as a user runs it: a git checkout, two refs, one command.

The mutant that drops rows must exit 1, print one JSON object naming the failed checks
with the missing keys as evidence, and leave the report, JUnit and bundle behind.
"""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from fixtures.reference import seeded_pipelines, sentiment_pipelines, visits_pipelines
from tests.integration.run_root import private_run_root

CUTOVER = [sys.executable, "-m", "harness.cli"]


def verify(tmp_path, pipelines, to_ref, then, *options):
    """`cutover verify bluegreen PIPELINES --from main --to TO_REF --then THEN --json`,
    on a stack of its own, results under ``tmp_path``."""
    with private_run_root() as run_root:
        return subprocess.run(
            [*CUTOVER, "verify", "bluegreen", str(pipelines), "--from", "main", "--to",
             to_ref, "--then", then, *options, "--json",
             "--results", str(tmp_path / "results"), f"--run-root={run_root}"],
            capture_output=True, text=True, timeout=600, check=False)


def test_verify_of_a_lossy_release_exits_1_with_the_missing_keys(tmp_path):
    done = verify(tmp_path, sentiment_pipelines(tmp_path), "mutant_drops_rows", "rollback",
                  "--records", "300")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-3000:]
    outcome = json.loads(done.stdout)
    assert outcome["outcome"] == "failed"
    assert [r["new_name"] for r in outcome["plan"]["redeploy"]] == [
        "int_article_sentiment_v2", "fct_ticker_sentiment_v2", "v_sector_sentiment_v2"]
    failed = {c["name"]: c for c in outcome["checks"] if not c["ok"]}
    lost = failed["v2:nothing_lost(int_article_sentiment_v2)"]
    assert all(key.endswith("7") for key in lost["evidence"]["examples"])
    assert "rolled_back:rolled_back" not in failed  # the rollback itself worked
    assert "REDEPLOY  int_article_sentiment -> int_article_sentiment_v2" in done.stderr
    assert "article_id from raw_articles.article_id" in done.stderr  # the data plan
    assert Path(outcome["report"]).is_file()
    junit = ET.parse(outcome["junit"]).getroot()
    assert junit.find(".//failure") is not None


def test_verify_of_a_product_filled_by_seeds_settles_and_passes(tmp_path):
    """Sources filled by INSERT ... VALUES end FINISHED and nothing is fed: the run must
    settle on them, keep them as untouched green statements, and tell keys whose last
    upsert depends on read order from a difference (shaped like shift_left's own test
    project, where this ended in a settle timeout)."""
    done = verify(tmp_path, seeded_pipelines(tmp_path), "seeded_tier", "promote-rollback")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outcome = json.loads(done.stdout)
    assert [r["new_name"] for r in outcome["plan"]["redeploy"]] == [
        "int_shoppers_v2", "fct_last_basket_v2"]
    checks = {c["name"]: c for c in outcome["checks"]}
    green = checks["v2:green_untouched"]
    assert green["evidence"]["statements"] == ["int_baskets", "src_baskets", "src_shoppers"]
    assert checks["promoted:promoted"]["ok"] and checks["rolled_back:rolled_back"]["ok"]
    assert "src_shoppers is filled with literal VALUES (a seed)" in done.stdout


def test_verify_of_a_product_whose_raw_topic_is_avro_feeds_it_in_avro(tmp_path):
    """Confluent Cloud declares tables Avro through the registry by default: the raw
    topic's keys and values are written in the Confluent wire format, with schemas
    registered from its DDL, and every acknowledged key reaches the intermediate."""
    done = verify(tmp_path, visits_pipelines(tmp_path), "visits_last_day", "rollback",
                  "--records", "300")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    lost = checks["v1:nothing_lost(int_visits)"]
    assert lost["ok"] and lost["evidence"]["expected"] >= 300, lost
    assert checks["v1_v2:new_columns_present(fct_shopper_visits_v2)"]["ok"]
    assert checks["v2:green_untouched"]["evidence"]["statements"] == ["int_visits"]
