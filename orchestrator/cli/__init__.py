"""`orchestrator <sub-command>`: chat, check-config, run, tools, route, schedule, doctor, health,
audit, worker.

Each sub-command lives in its own module; this is the one place they are registered.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from orchestrator.cli.audit import add_audit_parser
from orchestrator.cli.chat import add_chat_parser
from orchestrator.cli.check_config import add_check_config_parser
from orchestrator.cli.doctor import add_doctor_parser
from orchestrator.cli.health import add_health_parser
from orchestrator.cli.route import add_route_parser
from orchestrator.cli.run import add_run_parser
from orchestrator.cli.schedule import add_schedule_parser
from orchestrator.cli.tools import add_tools_parser
from orchestrator.cli.worker import add_worker_parser

SUB_COMMANDS = (
    add_chat_parser,
    add_check_config_parser,
    add_run_parser,
    add_tools_parser,
    add_route_parser,
    add_schedule_parser,
    add_doctor_parser,
    add_health_parser,
    add_audit_parser,
    add_worker_parser,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUB_COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    try:
        return int(ns.func(ns) or 0)
    except KeyboardInterrupt:
        return 130
