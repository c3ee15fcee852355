"""`orchestrator chat`: talk to the bot in this terminal (the console platform)."""

from __future__ import annotations

import argparse

from orchestrator.cli.common import SubParsers, add_config_option, load_or_report
from orchestrator.cli.platforms import run_platform
from orchestrator.logsetup import configure_logging
from orchestrator.redact import Redactor


def add_chat_parser(sub: SubParsers) -> None:
    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    add_config_option(chat)
    chat.add_argument("--verbose", "-v", action="store_true", help="show info logs")
    chat.set_defaults(func=cmd_chat)


def cmd_chat(ns: argparse.Namespace) -> int:
    config = load_or_report(ns.config)
    if config is None:
        return 2
    configure_logging(config.logging, Redactor(config.secrets), quiet=not ns.verbose)
    from orchestrator.admin.audit_sink import audit_trail  # not for other commands

    with audit_trail(config):
        return run_platform("console", config)
