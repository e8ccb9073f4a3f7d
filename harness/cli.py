"""The `cutover` command line."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.bench import bench_cdc, bench_injection, bench_pipeline, bench_stack
from harness.cli_cleanup import add_cleanup
from harness.cli_plan import add_plan
from harness.cli_verify import add_verify
from harness.config import SETTINGS, Config, load_config
from harness.console import progress
from harness.doctor import run_checks
from harness.errors import CutoverError
from harness.runner import (
    SUITE_PROVIDERS,
    SUITES,
    pytest_invocation,
    replay_bundle,
    suite_paths,
)
from harness.signals import teardown_on_sigterm
from harness.stack.artifacts import ensure_component
from harness.stack.manifest import load_manifest
from harness.stack.providers import provider_class
from harness.stack.rundir import StackState, recorded_runs, stop_recorded
from harness.stack.stack import Stack
from harness.strategy.policy import PolicyError, load_policy

_progress = progress


def _add_settings(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (also CUTOVER_* environment variables)")
    for setting in SETTINGS.values():
        if setting.name in ("keep", "keep_on_failure", "repeat", "replay", "run_id"):
            continue
        group.add_argument(setting.option.replace("--cutover-", "--"), dest=setting.name,
                           default=None, metavar=setting.name.upper(), help=setting.help)


def _config(args: argparse.Namespace) -> Config:
    cli = {name: getattr(args, name) for name in SETTINGS if getattr(args, name, None)}
    return load_config(cli=cli)


def _services(args: argparse.Namespace, config: Config) -> list[str]:
    known = provider_class(config["provider"]).service_names()
    return args.services.split(",") if args.services else known


def cmd_up(args: argparse.Namespace) -> int:
    config = _config(args)
    stack = Stack(config, progress=_progress)
    try:
        stack.require(*_services(args, config))
    except BaseException:
        stack.close()
        raise
    state = stack.detach()
    _print_state(state, as_json=args.json)
    if not args.json:
        print("stop it with: cutover down")
    return 0


def _print_state(state: StackState, *, as_json: bool) -> None:
    services = {name: {**info.get("endpoint", {}),
                       "pids": [p["pid"] for p in info.get("processes", [])]}
                for name, info in state.services.items()}
    if as_json:
        print(json.dumps({"run_id": state.run_id, "run_dir": state.run_dir,
                          "provider": state.provider, "services": services}, indent=2))
        return
    print(f"stack {state.run_id} ({state.provider}) in {state.run_dir}")
    for name, info in services.items():
        print(f"  {name:10} {info.get('address', '?'):50} pids {info['pids']}")


def _kept_runs(config: Config, run_id: str | None) -> list[StackState]:
    states = [s for s in recorded_runs(Path(config["run_root"])) if s.kept]
    if run_id:
        states = [s for s in states if s.run_id == run_id]
        if not states:
            raise CutoverError(f"no kept stack called {run_id!r}; `cutover status` lists them")
    return states


def cmd_down(args: argparse.Namespace) -> int:
    config = _config(args)
    states = _kept_runs(config, args.run)
    if not states:
        print("no stack is running (nothing started by `cutover up` or --cutover-keep)")
        return 0
    for state in states:
        stopped = stop_recorded(state)
        for service in state.services:  # clean: data goes, logs stay for the janitor
            shutil.rmtree(Path(state.run_dir) / service, ignore_errors=True)
        state.kept = False
        state.write()
        print(f"stopped {state.run_id}: {', '.join(stopped) or 'nothing was running'}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    config = _config(args)
    states = [s for s in recorded_runs(Path(config["run_root"])) if s.alive()]
    if args.json:
        print(json.dumps([{"run_id": s.run_id, "kept": s.kept, "owner_pid": s.owner_pid,
                           "run_dir": s.run_dir, "services": s.services} for s in states],
                         indent=2))
        return 0
    if not states:
        print("no stack is running")
    for state in states:
        _print_state(state, as_json=False)
        print(f"  kept: {state.kept}, owner pid {state.owner_pid}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = run_checks(_config(args))
    for check in checks:
        mark = "ok " if check.ok else "FAIL"
        print(f"[{mark}] {check.name}: {check.detail}")
        if check.fix:
            print(f"       fix: {check.fix}")
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def cmd_install(args: argparse.Namespace) -> int:
    config = _config(args)
    jvm = not (args.kubernetes_only or args.no_jvm)
    for component in load_manifest().values() if jvm else []:
        path = ensure_component(Path(config["cache_dir"]), component, progress=_progress)
        print(f"{component.name} {component.version}: {path}")
    if args.toxiproxy:
        from harness.stack.gotools import ensure_tool, tool
        from harness.stack.kubernetes.toolchain import find_go

        _progress(f"toxiproxy: building {tool('toxiproxy').version} with go")
        built = ensure_tool(Path(config["cache_dir"]), "toxiproxy", go=find_go(),
                            keep_build_cache=args.keep_go_cache)
        print(f"toxiproxy {tool('toxiproxy').version}: {built}")
    if args.kubernetes or args.kubernetes_only:
        from harness.stack.kubernetes.toolchain import ensure_toolchain

        toolchain = ensure_toolchain(Path(config["cache_dir"]), progress=_progress,
                                     keep_build_cache=args.keep_go_cache)
        versions = ", ".join(f"{n} {v}" for n, v in toolchain.versions().items())
        print(f"kubernetes ({versions}): {toolchain.root}")
    return 0


def cmd_endpoints(args: argparse.Namespace) -> int:
    from harness.stack.external.endpoints_file import render_endpoints

    config = _config(args)
    states = _kept_runs(config, args.run)
    if not states:
        raise CutoverError("no stack is running; start one with `cutover up`, or write the "
                           "endpoints file of your platform by hand (see the README)")
    if len(states) > 1:
        raise CutoverError(f"{len(states)} stacks are running; pick one with --run "
                           f"({', '.join(s.run_id for s in states)})")
    print(render_endpoints({name: info.get("endpoint", {})
                            for name, info in states[0].services.items()}), end="")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.target == "pipeline":
        result = bench_pipeline(config, runs=args.runs, progress=_progress)
    elif args.target == "injection":
        result = bench_injection(config, progress=_progress)
    elif args.target == "cdc":
        result = bench_cdc(config, progress=_progress)
    elif args.target == "parity":
        from harness.bench_parity import bench_parity

        result = bench_parity(config, rows=args.rows, runs=args.runs, progress=_progress)
    elif args.target == "canary-accuracy":
        from harness.bench_canary import bench_canary_accuracy

        result = bench_canary_accuracy(config, _accuracy_spec(args), runs=args.runs,
                                       progress=_progress)
    else:
        result = bench_stack(config, services=_services(args, config), runs=args.runs,
                             progress=_progress)
    print(json.dumps(result, indent=2))
    return 0


def _accuracy_spec(args: argparse.Namespace) -> dict[str, Any]:
    missing = [f"--{name.replace('_', '-')}" for name in
               ("stable", "canary", "bad_canary", "values", "values_root")
               if not getattr(args, name, None)]
    if missing:
        raise CutoverError(f"bench canary-accuracy needs {', '.join(missing)}: the commands "
                           "of a stable, a healthy and a bad canary version (with {port}) "
                           "and the values file with its root key; see the README")
    requests = Path(args.requests).read_text() if args.requests else None
    return {"stable": args.stable, "canary": args.canary, "bad_canary": args.bad_canary,
            "values": args.values, "values_root": args.values_root, "health": args.health,
            "requests": requests, "seeded": args.seeded}


def cmd_policy_check(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(Path(args.values), compression_factor=args.compression_factor,
                             min_samples=args.min_samples)
    except PolicyError as exc:
        for issue in exc.issues:
            print(f"{args.values}:{issue.location()}: {issue.message} (fix: {issue.fix})",
                  file=sys.stderr)
        print(f"{len(exc.issues)} problem(s) in {args.values}", file=sys.stderr)
        return 2
    print(json.dumps(policy.to_json(), indent=2) if args.json else policy.render_text())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = {name: getattr(args, name) for name in SETTINGS
                if getattr(args, name, None) and name not in ("results_dir", "repeat")}
    if args.keep_on_failure:
        settings["keep_on_failure"] = "true"
    if args.suite in SUITE_PROVIDERS and "provider" not in settings and \
            not os.environ.get(SETTINGS["provider"].env_var):
        settings["provider"] = SUITE_PROVIDERS[args.suite]
    invocation = pytest_invocation(
        suite_paths(args.suite), results_dir=args.results_dir or "cutover-results",
        keyword=args.k, repeat=args.repeat_count, settings=settings, extra=args.pytest_args)
    _progress(f"running {args.suite}; results in {invocation.results}")
    code = invocation.run()
    report = invocation.results / "report.html"
    _progress((f"report: {report}" if report.exists() else
               "no report: no test used the `scenario` fixture, which records one") +
              f"; JUnit: {invocation.results / 'junit.xml'}; exit {code}")
    return code


def cmd_replay(args: argparse.Namespace) -> int:
    comparison, replayed = replay_bundle(Path(args.bundle),
                                         results_dir=args.results_dir or "cutover-results",
                                         progress=_progress)
    if args.json:
        print(json.dumps(comparison.to_json(), indent=2))
    elif comparison.same:
        print(f"reproduced: the replay ended {comparison.replay['outcome']} with the same "
              f"checks, decisions and verdicts ({replayed})")
    else:
        print(f"NOT reproduced ({replayed}):")
        for difference in comparison.differences:
            print(f"  {difference}")
    return 0 if comparison.same else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cutover", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, func: Any,
                parent: Any = None) -> argparse.ArgumentParser:
        p = (parent or sub).add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        _add_settings(p)
        return p

    up = command("up", "start the stack, print its endpoints, leave it running", cmd_up)
    up.add_argument("--json", action="store_true", help="print endpoints as JSON")
    up.add_argument("--services", help="comma-separated subset (default: all)")
    down = command("down", "stop stacks left running by `up` or --cutover-keep", cmd_down)
    down.add_argument("--run", help="stop only this run id (default: all kept stacks)")
    status = command("status", "list running stacks and their endpoints", cmd_status)
    status.add_argument("--json", action="store_true")
    command("doctor", "check prerequisites and say how to fix what is missing", cmd_doctor)
    install = command("install", "download the pinned JVM components into the cache",
                      cmd_install)
    install.add_argument("--kubernetes", action="store_true",
                         help="also build the pinned Kubernetes parts (etcd, API server, "
                              "controller manager, scheduler, kwok, Helm) with go")
    install.add_argument("--kubernetes-only", action="store_true",
                         help="build the Kubernetes parts, not the JVM components")
    install.add_argument("--toxiproxy", action="store_true",
                         help="also build Toxiproxy with go (network faults: "
                              "--cutover-network-faults)")
    install.add_argument("--no-jvm", action="store_true",
                         help="skip the JVM components (with --kubernetes, --toxiproxy)")
    install.add_argument("--keep-go-cache", action="store_true",
                         help="keep Go's build cache (about 5 GB) after building")
    endpoints = command("endpoints", "print the endpoints file of a stack started with "
                        "`cutover up` (for --cutover-provider external)", cmd_endpoints)
    endpoints.add_argument("--run", help="the run id (default: the only kept stack)")
    bench = command("bench", "benchmarks that print JSON", cmd_bench)
    bench.add_argument("target", choices=["stack", "pipeline", "injection", "cdc",
                                          "parity", "canary-accuracy"],
                       help="what to benchmark")
    bench.add_argument("--runs", type=int, default=3,
                       help="runs per figure (median); canary-accuracy: runs of each kind "
                            "(use 20)")
    accuracy = bench.add_argument_group("canary-accuracy: the service to judge")
    for flag, text in (("--stable", "stable version's command with {port}"),
                       ("--canary", "a healthy canary, with the same noise as stable"),
                       ("--bad-canary", "a canary the analysis must roll back"),
                       ("--values", "values file holding the canary policy"),
                       ("--values-root", "dotted key of the policy in it"),
                       ("--requests", "request mix file (METHOD PATH [BODY] lines)")):
        accuracy.add_argument(flag, help=text)
    accuracy.add_argument("--health", default="/health", help="health path")
    accuracy.add_argument("--seeded", action="store_true",
                          help="append --seed N to the commands, a different N per run")
    bench.add_argument("--services", help="comma-separated subset (default: all)")
    bench.add_argument("--rows", type=int, default=1_000_000,
                       help="parity: rows of the table diffed (default 1000000)")
    run_help = "run a scenario suite; results, report.html and junit.xml in cutover-results/"
    run = command("run", run_help, cmd_run)
    run.add_argument("suite", nargs="?", default="reference",
                     help=f"{', '.join(SUITES)}, or a test path (default: reference)")
    run.add_argument("-k", metavar="EXPR", help="only tests matching EXPR (pytest -k)")
    run.add_argument("--repeat", dest="repeat_count", type=int, default=1, metavar="N",
                     help="run each selected test N times (flakiness hunting)")
    run.add_argument("--keep-on-failure", action="store_true",
                     help="leave the stack up after a failure (stop it with `cutover down`)")
    run.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS",
                     help="anything after -- goes to pytest as is")
    add_verify(sub, command)
    replay_help = "re-run an incident bundle's scenario with its seeds and faults; compare"
    replay = command("replay", replay_help, cmd_replay)
    replay.add_argument("bundle", metavar="BUNDLE",
                        help="a scenario folder of a run: cutover-results/<run>/scenarios/<x>")
    replay.add_argument("--json", action="store_true", help="print the comparison as JSON")
    add_plan(sub)
    add_cleanup(sub)
    policy_help = "canary policies read from Helm values"
    policy = sub.add_parser("policy", help=policy_help, description=policy_help)
    check_help = "validate a values file and print the resolved canary policy"
    check = policy.add_subparsers(dest="action", required=True).add_parser(
        "check", help=check_help, description=check_help)
    check.set_defaults(func=cmd_policy_check)
    check.add_argument("values", metavar="VALUES_YAML", help="Helm values with dataTier.canary")
    check.add_argument("--json", action="store_true", help="print the policy as JSON")
    check.add_argument("--compression-factor", type=float, metavar="F",
                       help="override cutover.compressionFactor")
    check.add_argument("--min-samples", type=int, metavar="N",
                       help="override cutover.minSamples")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    teardown_on_sigterm()
    try:
        return int(args.func(args))
    except CutoverError as exc:
        print(f"cutover: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cutover: interrupted; services stopped", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of cutover's: one clear line, the traceback kept
        print(internal_error(exc), file=sys.stderr)
        return 3


def internal_error(exc: BaseException) -> str:
    """What an unexpected exception prints: not a traceback on the user's screen (unless
    CUTOVER_TRACEBACK=1), but what happened, that it is cutover's bug, and the file that
    holds the traceback to attach to a report."""
    text = "".join(traceback.format_exception(exc))
    if os.environ.get("CUTOVER_TRACEBACK") == "1":
        return text
    fd, path = tempfile.mkstemp(prefix="cutover-traceback-", suffix=".txt")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return (f"cutover: internal error: {type(exc).__name__}: {exc}\n"
            f"cutover: this is a bug in cutover, not in your input; the traceback is in "
            f"{path} (CUTOVER_TRACEBACK=1 prints it): attach it to a bug report")


if __name__ == "__main__":
    sys.exit(main())
