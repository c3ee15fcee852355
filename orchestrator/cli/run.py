"""`orchestrator run telegram|discord`: run a chat platform's adapter."""

from __future__ import annotations

import argparse
import sys

from orchestrator.cli.common import SubParsers, add_config_option, load_or_report
from orchestrator.cli.platforms import run_platform
from orchestrator.logsetup import configure_logging
from orchestrator.redact import Redactor


def add_run_parser(sub: SubParsers) -> None:
    run = sub.add_parser("run", help="run a chat platform adapter")
    run.add_argument("platform", choices=["telegram", "discord"])
    add_config_option(run)
    run.add_argument(
        "--role",
        choices=["all", "frontend"],
        default="all",
        help="frontend: queue messages for `orchestrator worker` (scale.mode: distributed)",
    )
    run.set_defaults(func=cmd_run_bot)


def cmd_run_bot(ns: argparse.Namespace) -> int:
    config = load_or_report(ns.config)
    if config is None:
        return 2
    configure_logging(config.logging, Redactor(config.secrets))
    if ns.role == "frontend":
        if config.scale.mode != "distributed":
            print("--role frontend needs scale.mode: distributed in the config", file=sys.stderr)
            return 2
        scale = config.scale.model_copy(update={"role": "frontend"})
        config = config.model_copy(update={"scale": scale})
    from orchestrator.admin.audit_sink import audit_trail  # not for other commands

    with audit_trail(config):
        return run_platform(ns.platform, config)
