"""`cutover cleanup`: cancel the Flink jobs a crashed blue/green run left running."""

from __future__ import annotations

import argparse
import json
from typing import Any

from harness.strategy.bluegreen_state import cleanup_recorded


def cmd_cleanup(args: argparse.Namespace) -> int:
    found = cleanup_recorded(args.bundle, rest_url=args.rest_url or "")
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for kind, names in found.items():
        print(f"{kind}: {', '.join(names) if names else '(none)'}")
    return 0


def add_cleanup(sub: Any) -> None:
    cleanup_help = ("cancel the Flink jobs a crashed blue/green run left running, from the "
                    "state its bundle recorded")
    cleanup = sub.add_parser("cleanup", help=cleanup_help, description=cleanup_help)
    cleanup.set_defaults(func=cmd_cleanup)
    cleanup.add_argument("bundle", metavar="BUNDLE",
                         help="the run's bundle folder (cutover-results/<run>/scenarios/<x>) "
                              "or its bluegreen-state.json")
    cleanup.add_argument("--rest-url", metavar="URL",
                         help="the Flink REST address, when not the one recorded")
    cleanup.add_argument("--json", action="store_true", help="print what was done as JSON")
