"""The README's CI jobs to copy: they parse, keep the results as artifacts even when the
job fails, install what bootstrap installs, and every cutover command in them is one the
CLI accepts (flags, choices) and whose help runs."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from harness.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
# what the jobs' variables hold when they run
VARIABLES = {"CUTOVER": "cutover==0.1.0", "GITHUB_BASE_REF": "main",
             "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}


def readme_yaml(first_line: str) -> dict:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    found = [b for b in blocks if b.startswith(first_line)]
    assert len(found) == 1, f"the README has {len(found)} blocks starting {first_line!r}"
    return yaml.safe_load(found[0])


def github() -> tuple[dict, list[str]]:
    workflow = readme_yaml("# .github/workflows/cutover.yml")
    (job,) = workflow["jobs"].values()
    lines = [line for step in job["steps"] if "run" in step
             for line in step["run"].splitlines() if line.strip()]
    return job, lines


def gitlab() -> tuple[dict, list[str]]:
    (job,) = readme_yaml("# .gitlab-ci.yml").values()
    return job, job["script"]


def words(line: str) -> list[str]:
    expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: VARIABLES.get(m.group(1), m.group(0)), line)
    return shlex.split(expanded)


def bootstrap_packages() -> set[str]:
    text = (ROOT / "scripts" / "bootstrap").read_text()
    listed = re.search(r"APT_PACKAGES=\((.*?)\)", text, re.S)
    assert listed, "scripts/bootstrap lists its Debian packages in APT_PACKAGES=(...)"
    return {w for line in listed.group(1).splitlines()
            for w in line.split("#")[0].split()}


@pytest.mark.parametrize("example", [github, gitlab], ids=["github", "gitlab"])
def test_every_cutover_command_is_accepted_by_the_cli(example, capsys):
    _, lines = example()
    commands = [words(line) for line in lines if line.startswith("cutover ")]
    assert {c[1] for c in commands} >= {"install", "doctor", "verify", "run"}
    subcommands = set()
    for argv in commands:
        try:
            build_parser().parse_args(argv[1:])
        except SystemExit as exc:
            pytest.fail(f"the CLI refuses {shlex.join(argv)} (exit {exc.code})")
        subcommands.add(tuple(a for a in argv[1:3] if not a.startswith("-") and
                              a in ("install", "doctor", "run", "verify", "bluegreen")))
    for sub in sorted(subcommands):
        with pytest.raises(SystemExit) as exited:
            main([*sub, "--help"])
        assert exited.value.code == 0 and "usage: cutover" in capsys.readouterr().out, sub


@pytest.mark.parametrize("example", [github, gitlab], ids=["github", "gitlab"])
def test_it_installs_what_bootstrap_installs_and_keeps_the_results(example):
    job, lines = example()
    apt = next(words(line) for line in lines if "apt-get install" in line)
    packages = {w for w in apt if not w.startswith("-")} - {"sudo", "apt-get", "install"}
    assert packages <= bootstrap_packages(), packages - bootstrap_packages()
    assert {"postgresql", "openjdk-17-jre-headless", "haproxy", "prometheus"} <= packages
    assert any(words(line)[:2] == ["pip", "install"] for line in lines)
    if example is github:
        (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith(
            "actions/upload-artifact")]
        assert upload["if"] == "always()" and upload["with"]["path"] == "cutover-results/"
        checkout = next(s for s in job["steps"] if s.get("uses", "").startswith(
            "actions/checkout"))
        assert checkout["with"]["fetch-depth"] == 0, "blue/green needs the base branch"
    else:
        assert job["artifacts"]["when"] == "always"
        assert job["artifacts"]["paths"] == ["cutover-results/"]
        assert job["artifacts"]["reports"]["junit"] == "cutover-results/*/junit.xml"
        assert job["variables"]["GIT_DEPTH"] == "0", "blue/green needs the target branch"
