"""The `cutover verify` commands: blue/green of a pipeline, canary of a service."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from harness.config import SETTINGS
from harness.console import progress as _progress
from harness.errors import CutoverError


def _settings(args: argparse.Namespace) -> dict[str, str]:
    return {name: getattr(args, name) for name in SETTINGS
            if getattr(args, name, None) and name != "results_dir"}



def _cdc_pairs(values: list[str] | None) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        raw, sep, table = value.partition("=")
        if not sep or not raw or not table:
            raise CutoverError(f"--cdc {value!r}: give RAW_TABLE=POSTGRES_TABLE, e.g. "
                               "raw_accounts=accounts")
        pairs[raw] = table
    return pairs


def cmd_verify_source_evolution(args: argparse.Namespace) -> int:
    from harness.strategy.source_evolution import SourceEvolutionSpec
    from harness.verify_evolution import verify_source_evolution

    if not args.source_ddl:
        raise CutoverError("--source-migration needs --source-ddl FILE: the CREATE TABLE "
                           "statements of the captured PostgreSQL tables")
    unsupported = [flag for flag, given in (("--table-list", args.table_list),
                                            ("--iceberg-sinks", args.iceberg_sinks)) if given]
    if unsupported:
        raise CutoverError(f"{', '.join(unsupported)} cannot be combined with "
                           "--source-migration (a source evolution feeds its product through "
                           "CDC and checks its Kafka tables)")
    spec = SourceEvolutionSpec(
        pipelines=Path(args.pipelines_dir).resolve(), from_ref=args.from_ref,
        to_ref=args.to_ref, source_ddl=Path(args.source_ddl).resolve(),
        migration=Path(args.source_migration).resolve(), cdc=_cdc_pairs(args.cdc),
        then=args.then, rows=args.records, seed=args.seed,
        settle_timeout_s=args.settle_timeout_s)
    return verify_source_evolution(spec, results_dir=args.results_dir or "cutover-results",
                                   settings=_settings(args), as_json=args.json,
                                   progress=_progress)


def cmd_verify_bluegreen(args: argparse.Namespace) -> int:
    from harness.strategy.bluegreen_setup import BlueGreenSpec
    from harness.verify import verify_bluegreen

    if args.source_migration:
        return cmd_verify_source_evolution(args)
    if args.source_ddl or args.cdc:
        raise CutoverError("--source-ddl and --cdc belong to --source-migration FILE")

    spec = BlueGreenSpec(
        pipelines=Path(args.pipelines_dir).resolve(), from_ref=args.from_ref,
        to_ref=args.to_ref, then=args.then,
        table_list=Path(args.table_list).resolve() if args.table_list else None,
        records=args.records, rate_per_s=args.rate_per_s, seed=args.seed,
        settle_timeout_s=args.settle_timeout_s,
        iceberg_sinks=tuple(t for t in (args.iceberg_sinks or "").split(",") if t))
    return verify_bluegreen(spec, results_dir=args.results_dir or "cutover-results",
                            settings=_settings(args), as_json=args.json,
                            progress=_progress)


def cmd_verify_canary(args: argparse.Namespace) -> int:
    from harness.verify_canary import verify_canary

    requests = None
    if args.requests:
        path = Path(args.requests)
        if not path.is_file():
            raise CutoverError(f"--requests {path}: no such file; give a file of "
                               "'METHOD PATH' lines")
        requests = path.read_text()
    spec = {"stable": args.stable, "canary": args.canary,
            "values": str(Path(args.values).resolve()), "values_root": args.values_root,
            "health": args.health, "requests": requests, "name": args.name,
            "version_header": args.version_header or "", "rate_per_s": args.rate_per_s,
            "compression_factor": args.compression_factor, "expect": args.expect,
            "approve": args.approve, "stable_version": args.stable_version or "",
            "canary_version": args.canary_version or "", **_parity_spec(args),
            **_chart_spec(args)}
    settings = _settings(args)
    if args.chart and "provider" not in settings and \
            not os.environ.get(SETTINGS["provider"].env_var):
        settings["provider"] = "kubernetes"  # a chart needs an API server: start one here
    return verify_canary(spec, results_dir=args.results_dir or "cutover-results",
                         settings=settings, as_json=args.json, progress=_progress)


def _chart_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--chart`` options as spec keys (checked by ``verify_canary.check_spec``)."""
    if not args.chart:
        return {}
    options: dict[str, Any] = {}
    for name in ("traffic_key", "stable_tag_key", "canary_tag_key", "enabled_key",
                 "virtual_service"):
        value = getattr(args, f"chart_{name}")
        if value:
            options[name] = value
    if args.chart_subsets:
        names = [n.strip() for n in args.chart_subsets.split(",")]
        if len(names) != 2 or not all(names) or names[0] == names[1]:
            raise CutoverError(f"--chart-subsets {args.chart_subsets!r}: give two distinct "
                               "subset names, stable's then canary's (e.g. v1,v2)")
        options["subsets"] = {names[0]: "stable", names[1]: "canary"}
    if args.chart_version_label:
        options["version_label"] = args.chart_version_label
    if args.chart_timeout_s:
        options["timeout_s"] = args.chart_timeout_s
    return {"chart": str(Path(args.chart).resolve()), "chart_release": args.chart_release or "",
            "chart_values": [str(Path(f).resolve()) for f in args.chart_values or []] or None,
            "chart_options": options}


def _add_chart(c: Any) -> None:
    chart = c.add_argument_group(
        "Helm-driven canary (provider kubernetes): each step is `helm upgrade --reuse-values "
        "--set <root>.trafficPercentage=N`, the VirtualService asserted, HAProxy following it")
    chart.add_argument("--chart", metavar="DIR", help="the Helm chart of the service")
    chart.add_argument("--chart-release", metavar="NAME",
                       help="release name (default: --name)")
    chart.add_argument("--chart-values", action="append", metavar="FILE",
                       help="values file passed with -f (repeatable; default: --values)")
    chart.add_argument("--chart-traffic-key", metavar="KEY",
                       help="canary traffic key (default: <values-root>.trafficPercentage)")
    chart.add_argument("--chart-stable-tag-key", metavar="KEY",
                       help="stable image tag key (default: <parent of root>.image.tag)")
    chart.add_argument("--chart-canary-tag-key", metavar="KEY",
                       help="canary image tag key (default: <values-root>.image.tag)")
    chart.add_argument("--chart-enabled-key", metavar="KEY",
                       help="canary on/off key (default: <values-root>.enabled)")
    chart.add_argument("--chart-virtual-service", metavar="NAME",
                       help="the VirtualService that splits traffic (default: the "
                            "release's only one)")
    chart.add_argument("--chart-subsets", metavar="STABLE,CANARY",
                       help="DestinationRule subset names (default: stable,canary)")
    chart.add_argument("--chart-version-label", metavar="LABEL",
                       help="pod label naming the subset, when the release renders no "
                            "DestinationRule (default: version)")
    chart.add_argument("--chart-timeout-s", type=float, metavar="S",
                       help="how long a Deployment may take to become available (default "
                            "60)")


def _parity_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--parity`` options as spec keys (checked by ``verify_canary.check_spec``)."""
    if not args.parity:
        return {}
    return {"parity": [{"pair": pair, "key": args.parity_key or "",
                        "columns": args.parity_columns or ""} for pair in args.parity],
            "parity_dsn": args.parity_dsn or "", "parity_catalog": args.parity_catalog or "",
            "parity_catalog_uri": args.parity_catalog_uri or "",
            "parity_warehouse": args.parity_warehouse or "",
            "parity_budget_s": args.parity_budget_s}


def _add_parity(c: Any) -> None:
    gate = c.add_argument_group(
        "parity gate: before any traffic moves, each PostgreSQL relation must agree by key "
        "with its Iceberg table (fail: the run is blocked, the differing keys shown)")
    gate.add_argument("--parity", action="append", metavar="SCHEMA.RELATION=DB.TABLE",
                      help="a PostgreSQL table or view and the Iceberg table the canary "
                           "reads instead (repeatable)")
    gate.add_argument("--parity-key", metavar="COLS", help="key columns, comma-separated")
    gate.add_argument("--parity-columns", metavar="COLS",
                      help="columns compared (default: every column of the relation)")
    gate.add_argument("--parity-dsn", metavar="DSN",
                      help="PostgreSQL to read (default: the stack's)")
    gate.add_argument("--parity-catalog", metavar="NAME",
                      help="Iceberg catalog name (default: the stack's)")
    gate.add_argument("--parity-catalog-uri", metavar="URI",
                      help="SQLAlchemy URI of the Iceberg JDBC catalog (default: the stack's)")
    gate.add_argument("--parity-warehouse", metavar="URI",
                      help="Iceberg warehouse (default: the stack's)")
    gate.add_argument("--parity-budget-s", type=float, default=30.0, metavar="S",
                      help="how long the two sides may take to agree (default: 30)")


def _add_verify_canary(kinds: Any, command: Any) -> None:
    canary_help = ("canary of your own HTTP service behind the stack's HAProxy: stable and "
                   "canary side by side, traffic moved by the values file's steps, judged "
                   "from the router and the load's ledger; exit 0 when the outcome is the "
                   "expected one and every check holds, 1 when not, 2 on bad input")
    c = command("canary", canary_help, cmd_verify_canary, parent=kinds)
    c.add_argument("--stable", required=True, metavar="CMD|URL",
                   help="command of the stable version with {port} in it (quoted), or the "
                        "URL of one already running")
    c.add_argument("--canary", required=True, metavar="CMD|URL",
                   help="the same for the canary version")
    c.add_argument("--values", required=True, metavar="FILE",
                   help="Helm values file holding the canary policy")
    c.add_argument("--values-root", default="dataTier.canary", metavar="KEY",
                   help="dotted key of the canary settings (default: dataTier.canary)")
    c.add_argument("--health", default="/health", metavar="PATH",
                   help="health path; 2xx when a version can take traffic (default: "
                        "/health)")
    c.add_argument("--requests", metavar="FILE",
                   help="request mix: 'METHOD PATH [BODY]' lines, sent in turn (default: "
                        "GET /)")
    c.add_argument("--rate-per-s", type=float, default=80.0, metavar="N",
                   help="requests per second through the router (default: 80)")
    c.add_argument("--compression-factor", type=float, metavar="N",
                   help="time compression of the policy's durations (default: the values "
                        "file's cutover.compressionFactor)")
    c.add_argument("--expect", default="promoted",
                   choices=["promoted", "rolled_back", "aborted", "halted",
                            "awaiting_approval", "blocked"],
                   help="the outcome that exits 0 (default: promoted)")
    c.add_argument("--approve", action="store_true",
                   help="approve the promotion when the policy leaves it to a person")
    c.add_argument("--name", default="service", help="short name of the service")
    c.add_argument("--stable-version", metavar="LABEL",
                   help="name of the stable version (default: stable); with --chart, its "
                        "image tag")
    c.add_argument("--canary-version", metavar="LABEL",
                   help="name of the canary version (default: canary); with --chart, its "
                        "image tag and feature.canary-version")
    c.add_argument("--version-header", metavar="HEADER",
                   help="response header naming the version, if the service sets one")
    _add_parity(c)
    _add_chart(c)
    c.add_argument("--json", action="store_true",
                   help="print one JSON object: outcome, steps, checks, report")
    c.add_argument("--results", dest="results_dir", metavar="DIR",
                   help="results folder (default: cutover-results)")


def add_verify(sub: Any, command: Any) -> None:
    verify_help = "verify a deployment of your own pipeline or service on the stack"
    verify = sub.add_parser("verify", help=verify_help, description=verify_help)
    kinds = verify.add_subparsers(dest="kind", required=True)
    bg_help = ("blue/green of the statements a git change touches: deploy REF1, feed it, "
               "deploy the plan beside it, check every sink, then promote and/or roll back; "
               "exit 0 when every check holds, 1 when one fails, 2 on bad input")
    bg = command("bluegreen", bg_help, cmd_verify_bluegreen, parent=kinds)
    bg.add_argument("pipelines_dir", metavar="PIPELINES_DIR",
                    help="the pipelines folder of a git checkout (shift_left or plain)")
    bg.add_argument("--from", dest="from_ref", required=True, metavar="REF",
                    help="git ref running now (v1)")
    bg.add_argument("--to", dest="to_ref", required=True, metavar="REF",
                    help="git ref to deploy (v2 of what it changes)")
    bg.add_argument("--then", choices=["promote", "rollback", "promote-rollback"],
                    default="promote", help="how the run ends (default: promote)")
    bg.add_argument("--table-list", metavar="FILE",
                    help="statements-to-deploy.txt, checked against the plan first")
    bg.add_argument("--records", type=int, default=600, metavar="N",
                    help="records of each leaf source; parents get fewer (default: 600)")
    bg.add_argument("--rate-per-s", type=float, default=100.0, metavar="N",
                    help="rate of the live feed while v2 deploys (default: 100)")
    bg.add_argument("--seed", type=int, default=20261201, metavar="N",
                    help="seed of the synthetic data")
    bg.add_argument("--settle-timeout-s", type=float, default=120.0, metavar="S",
                    help="how long the statements may take to settle (default: 120)")
    bg.add_argument("--iceberg-sinks", metavar="LAYERS",
                    help="layers or tables (comma-separated, e.g. fact,view) also "
                         "materialized as Iceberg upsert tables and checked there")
    evolution = bg.add_argument_group(
        "schema evolution of a CDC source (runbook Fig. 5): the captured PostgreSQL tables "
        "are created from --source-ddl, migrated by --source-migration, and REF2's source "
        "statement and descendants reprocess the raw topic as v2")
    evolution.add_argument("--source-migration", metavar="FILE",
                           help="ALTER TABLE statements (e.g. ADD COLUMN ... DEFAULT ...)")
    evolution.add_argument("--source-ddl", metavar="FILE",
                           help="CREATE TABLE statements of the captured tables")
    evolution.add_argument("--cdc", action="append", metavar="RAW=TABLE",
                           help="which PostgreSQL table feeds which raw table, when the "
                                "names do not say it (repeatable)")
    bg.add_argument("--json", action="store_true",
                    help="print one JSON object: outcome, plan, checks, report")
    bg.add_argument("--results", dest="results_dir", metavar="DIR",
                    help="results folder (default: cutover-results)")
    _add_verify_canary(kinds, command)
