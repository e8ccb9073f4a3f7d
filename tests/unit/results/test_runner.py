import sys
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.runner import SUITES, pytest_invocation, reference_root, suite_paths


def test_every_named_suite_exists_in_the_reference_root():
    root = reference_root()
    for suite, paths in SUITES.items():
        assert all((root / p).exists() for p in paths), suite
        assert suite_paths(suite) == [str(root / p) for p in paths], "absolute: runs anywhere"


def test_a_path_is_taken_from_the_current_folder_first_then_the_reference_root(
        tmp_path, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "test_mine.py").write_text("def test_x(): pass\n")
    monkeypatch.chdir(tmp_path)
    assert suite_paths("scenarios/test_mine.py::test_x") == ["scenarios/test_mine.py::test_x"]
    reference = reference_root() / "scenarios" / "test_canary_data_tier.py"
    assert suite_paths("scenarios/test_canary_data_tier.py::test_x") == [f"{reference}::test_x"]
    with pytest.raises(ConfigError, match=r"reference, stack, bluegreen.*none at"):
        suite_paths("nope")


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
    assert invocation.cwd == Path.cwd(), "the user's folder, not cutover's"
