"""`cutover run` and `cutover replay`: pytest sessions over the scenario suites.

Both run pytest in a child process from the caller's folder, so a team's own scenario
folder (``cutover run their-scenarios/``) runs where they are and its results land
there. The reference suites ship in the package beside ``harness`` (a checkout or an
installed wheel alike) and run by name from anywhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.results.bundle import Comparison, compare, load_bundle
from harness.results.session import new_run_id

SUITES: dict[str, list[str]] = {
    "reference": ["scenarios"],
    "stack": ["scenarios/test_stack_readiness.py"],
    "bluegreen": ["scenarios/test_bluegreen_intermediate.py", "scenarios/test_bluegreen_orders.py"],
    "cdc": ["scenarios/test_cdc_schema_evolution.py", "scenarios/test_cdc_source_migration.py",
            "scenarios/test_faults_cdc.py"],
    "canary": ["scenarios/test_canary_data_tier.py", "scenarios/test_canary_inventory.py",
               "scenarios/test_faults_canary.py"],
    "platform": ["scenarios/test_platform_canary.py"],
    "kubernetes": ["scenarios/test_kubernetes_canary.py"],
    "faults": ["scenarios/test_faults_bluegreen.py", "scenarios/test_faults_network.py",
               "scenarios/test_faults_storage.py", "scenarios/test_faults_cdc.py",
               "scenarios/test_faults_canary.py"],
    "incidents": ["fixtures/incidents"],
}


# Suites that need a provider other than the default; used unless one is chosen.
SUITE_PROVIDERS: dict[str, str] = {"kubernetes": "kubernetes"}


def reference_root() -> Path:
    """The folder holding the ``harness``, ``fixtures`` and ``scenarios`` packages: the
    checkout, or the site-packages an installed wheel put them in."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "scenarios").is_dir():
        raise ConfigError(f"no scenarios/ next to {root / 'harness'}: this cutover was "
                          "installed without its reference suites; reinstall it from a "
                          "wheel or a checkout (`pip install cutover-*.whl`)")
    return root


def suite_paths(suite: str, root: Path | None = None) -> list[str]:
    """The test paths of a named suite, or ``suite`` itself if it is a path.

    A suite's paths are absolute (they live in ``root``, the reference root by default);
    a path is taken from the current folder first, then from the reference root."""
    if suite in SUITES:
        base = root or reference_root()
        return [str(base / path) for path in SUITES[suite]]
    node, sep, rest = suite.partition("::")
    if Path(node).exists():
        return [suite]
    base = root or reference_root()
    if (base / node).exists():
        return [f"{base / node}{sep}{rest}"]
    raise ConfigError(f"unknown suite {suite!r}: give one of {', '.join(SUITES)}, or a test "
                      f"path (none at {Path.cwd() / node}) such as scenarios/ or "
                      "scenarios/test_my_product.py")


@dataclass(frozen=True)
class Invocation:
    """A pytest child process: its arguments and where its results go."""

    argv: list[str]
    cwd: Path
    results: Path  # this run's results folder

    def run(self, *, output_to_stderr: bool = False) -> int:
        """Run it; ``output_to_stderr`` keeps stdout for the caller's own answer."""
        out = sys.stderr if output_to_stderr else None
        return subprocess.run(self.argv, cwd=self.cwd, check=False, stdout=out).returncode


def pytest_invocation(paths: Sequence[str], *, results_dir: str, keyword: str | None = None,
                      repeat: int = 1, settings: dict[str, str] | None = None,
                      replay: Path | None = None, extra: Sequence[str] = ()) -> Invocation:
    """The pytest command for ``paths`` with results in a fresh folder of ``results_dir``
    (relative to the current folder), run from the current folder."""
    results_root = Path(results_dir)
    if not results_root.is_absolute():
        results_root = Path.cwd() / results_root
    run_id = new_run_id()
    argv = [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider",
            f"--cutover-results-dir={results_root}", f"--cutover-run-id={run_id}",
            f"--junitxml={results_root / run_id / 'junit.xml'}", "-o", "junit_family=xunit2"]
    if keyword:
        argv += ["-k", keyword]
    if repeat > 1:
        argv.append(f"--cutover-repeat={repeat}")
    if replay is not None:
        argv.append(f"--cutover-replay={replay}")
    for name, value in (settings or {}).items():
        argv.append(f"--cutover-{name.replace('_', '-')}={value}")
    root = reference_root() if paths else None
    if root is not None and all(_under(path, root) for path in paths):
        # node ids as in a checkout ("scenarios/test_x.py::test"), wherever it is installed
        argv.append(f"--rootdir={root}")
    argv += list(extra)
    return Invocation(argv, Path.cwd(), results_root / run_id)


def _under(path: str, root: Path) -> bool:
    return Path(path.partition("::")[0]).resolve().is_relative_to(root)


def replay_bundle(bundle_path: Path, *, results_dir: str,
                  progress: Callable[[str], None] = print) -> tuple[Comparison, Path]:
    """Re-run the bundle's scenario with its seeds and fault schedule; compare conclusions.

    Returns the comparison and the replay's bundle folder.
    """
    original = load_bundle(bundle_path)
    settings = {"provider": str(original.manifest.get("settings", {}).get("provider", "local"))}
    invocation = pytest_invocation(suite_paths(original.nodeid), results_dir=results_dir,
                                   settings=settings, replay=original.path.resolve())
    progress(f"replaying {original.nodeid} (it ended {original.outcome}) with seeds "
             f"{original.manifest.get('seeds')} and faults "
             f"{original.manifest.get('fault_schedule')}")
    invocation.run(output_to_stderr=True)  # stdout is the verdict of the replay
    summary = invocation.results / "summary.json"
    if not summary.exists():
        raise ConfigError(f"the replay recorded no scenario (no {summary}); is "
                          f"{original.nodeid} still a scenario here or among the reference suites?")
    scenarios = json.loads(summary.read_text())["scenarios"]
    replayed = load_bundle(invocation.results / scenarios[0]["bundle"])
    comparison = compare(original, replayed)
    (invocation.results / "replay.json").write_text(json.dumps(
        {"original": str(original.path), "replay": str(replayed.path),
         **comparison.to_json()}, indent=2))
    return comparison, replayed.path
