"""`cutover plan`: which statements a change redeploys, as text, JSON or a graph."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from harness.errors import CutoverError
from harness.pipeline import changed_tables_between, load_pipeline, plan_change
from harness.pipeline.plan_graph import to_dot, to_mermaid


def cmd_plan(args: argparse.Namespace) -> int:
    if args.changed:
        model, changed = load_pipeline(args.pipeline_dir), list(args.changed)
    elif args.from_ref and args.to_ref:
        model, changed = changed_tables_between(args.pipeline_dir, args.from_ref, args.to_ref)
        if not changed:
            print(f"no table changed between {args.from_ref} and {args.to_ref}",
                  file=sys.stderr)
    else:
        raise CutoverError("say what changed: --from REF --to REF (both), or --changed "
                           "TABLE [TABLE ...]")
    for warning in model.warnings:
        print(f"cutover: warning: {warning}", file=sys.stderr)
    plan = plan_change(model, changed)
    form = "json" if args.json else args.format
    print({"json": lambda: json.dumps(plan.to_json(), indent=2),
           "mermaid": lambda: to_mermaid(plan.to_json()),
           "dot": lambda: to_dot(plan.to_json())}.get(form, plan.render_text)())
    return 0


def add_plan(sub: Any) -> None:
    plan_help = "which statements a change redeploys, as new table versions"
    plan = sub.add_parser("plan", help=plan_help, description=plan_help)  # no stack settings
    plan.set_defaults(func=cmd_plan)
    plan.add_argument("pipeline_dir", help="shift_left project or folder of .sql files")
    what = plan.add_mutually_exclusive_group(required=True)
    what.add_argument("--changed", nargs="+", metavar="TABLE", help="tables whose SQL changed")
    what.add_argument("--from", dest="from_ref", metavar="REF", help="git ref deployed now")
    plan.add_argument("--to", dest="to_ref", metavar="REF", help="git ref to deploy (with --from)")
    plan.add_argument("--format", choices=("text", "json", "mermaid", "dot"), default="text",
                      help="text (default); json; mermaid or dot: the pipeline as a graph "
                           "whose tables are coloured changed, redeployed, green or external")
    plan.add_argument("--json", action="store_true", help="the same as --format json")
