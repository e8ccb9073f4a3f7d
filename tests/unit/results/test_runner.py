import sys

import pytest

from harness.errors import ConfigError
from harness.runner import SUITES, project_root, pytest_invocation, suite_paths


def test_every_named_suite_exists_in_the_checkout():
    root = project_root()
    for suite, paths in SUITES.items():
        assert all((root / p).exists() for p in paths), suite


def test_a_suite_may_be_a_path_and_unknown_names_list_the_choices():
    root = project_root()
    assert suite_paths("scenarios/test_canary_data_tier.py::test_x", root) == [
        "scenarios/test_canary_data_tier.py::test_x"]
    with pytest.raises(ConfigError, match="reference, stack, bluegreen"):
        suite_paths("nope", root)


def test_the_pytest_command_puts_junit_beside_the_report(tmp_path):
    invocation = pytest_invocation(["scenarios"], results_dir=str(tmp_path), keyword="canary",
                                   repeat=3, settings={"provider": "local"})
    argv = invocation.argv
    assert argv[:4] == [sys.executable, "-m", "pytest", "scenarios"]
    assert f"--junitxml={invocation.results / 'junit.xml'}" in argv
    assert f"--cutover-run-id={invocation.results.name}" in argv
    assert invocation.results.parent == tmp_path
    assert argv[argv.index("-k"):argv.index("-k") + 2] == ["-k", "canary"]
    assert "--cutover-repeat=3" in argv and "--cutover-provider=local" in argv
    assert invocation.cwd == project_root()
