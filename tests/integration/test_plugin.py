"""The plugin's own options, run in a child pytest with pytester."""

import subprocess
import sys

from tests.integration.run_root import private_run_root

NEEDS_POSTGRES = """
import psycopg

def test_uses_postgres(postgres, namespace):
    with psycopg.connect(postgres.dsn) as conn:
        conn.execute(f'CREATE TABLE "{namespace.schema}".t (x int)')
"""


def test_unknown_provider_is_a_usage_error_listing_known_ones(pytester):
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess("--cutover-provider=kubernets")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["*unknown provider 'kubernets'*known providers: containers, external, kubernetes, local*"])


def test_provider_option_help_lists_existing_providers(pytester):
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--cutover-provider=NAME*", "*where services run: local*"])


def test_only_the_services_a_test_needs_are_started(pytester):
    pytester.makepyfile(NEEDS_POSTGRES)
    with private_run_root() as run_root:
        result = pytester.runpytest_subprocess(f"--cutover-run-root={run_root}", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*cutover: postgres: ready in*"])
    result.stdout.no_fnmatch_line("*cutover: kafka*")


def test_keep_leaves_the_stack_running_and_says_how_to_reach_it(pytester):
    pytester.makepyfile(NEEDS_POSTGRES)
    with private_run_root() as run_root:
        result = pytester.runpytest_subprocess(f"--cutover-run-root={run_root}",
                                               "--cutover-keep")
        down = subprocess.run([sys.executable, "-m", "harness.cli", "down", "--run-root",
                               str(run_root)], capture_output=True, text=True, timeout=120)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*cutover: stack kept running*",
                                 "*postgres: postgresql://cutover@127.0.0.1:*",
                                 "*stop it with: cutover down*"])
    assert "stopped run-" in down.stdout and "postgres" in down.stdout
