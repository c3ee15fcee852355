"""`orchestrator <sub-command>`: chat, check-config, tools, route, run, schedule."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from orchestrator.config import Config, load_config
from orchestrator.errors import ConfigError
from orchestrator.logsetup import configure_logging
from orchestrator.redact import Redactor

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def config_path(value: str | None) -> Path | None:
    chosen = value or os.environ.get("ORCHESTRATOR_CONFIG")
    return Path(chosen) if chosen else None


def load_or_report(path: str | None) -> Config | None:
    """Load the config, or print each problem (FILE:LINE: key.path: message) and return None."""
    try:
        return load_config(config_path(path))
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return None


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        help="config file (default: config/orchestrator.yaml or $ORCHESTRATOR_CONFIG)",
    )


def cmd_check_config(ns: argparse.Namespace) -> int:
    try:
        load_config(Path(ns.file) if ns.file else config_path(None))
    except ConfigError as exc:
        for line in exc.problems:
            print(line)
        return 2
    print("ok")
    return 0


def cmd_chat(ns: argparse.Namespace) -> int:
    config = load_or_report(ns.config)
    if config is None:
        return 2
    configure_logging(config.logging, Redactor(config.secrets), quiet=not ns.verbose)
    from bots.console import ConsoleAdapter
    from orchestrator.app import build_orchestrator

    async def main() -> int:
        orchestrator = build_orchestrator(config)
        await orchestrator.start()
        try:
            return await ConsoleAdapter(orchestrator).run()
        finally:
            await orchestrator.stop()

    return asyncio.run(main())


def cmd_run_bot(ns: argparse.Namespace) -> int:
    config = load_or_report(ns.config)
    if config is None:
        return 2
    configure_logging(config.logging, Redactor(config.secrets))
    if ns.platform == "telegram":
        from bots.telegram_bot import run_telegram

        return run_telegram(config)
    from bots.discord_bot import run_discord

    return run_discord(config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    add_config_option(chat)
    chat.add_argument("--verbose", "-v", action="store_true", help="show info logs")
    chat.set_defaults(func=cmd_chat)

    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("file", nargs="?", help="config file (default: the embedded one)")
    check.set_defaults(func=cmd_check_config)

    run = sub.add_parser("run", help="run a chat platform adapter")
    run.add_argument("platform", choices=["telegram", "discord"])
    add_config_option(run)
    run.set_defaults(func=cmd_run_bot)

    _add_feature_parsers(sub)
    return parser


def _add_feature_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from orchestrator.hub_cli import add_tools_parser

    add_tools_parser(sub)
    from orchestrator.scheduling.cli import add_schedule_parser

    add_schedule_parser(sub)
    try:
        from orchestrator.routing.cli import add_route_parser
    except ImportError:  # pragma: no cover - while the router is being built
        return
    add_route_parser(sub)


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    try:
        return int(ns.func(ns) or 0)
    except KeyboardInterrupt:
        return 130
