"""`orchestrator <sub-command>`: chat, check-config, run, tools, route, schedule, doctor, health,
audit, worker, dashboard, mcp.

Each sub-command lives in its own module; this is the one place they are registered, and the
one place a command ends: a closed pipe (`| head`), Ctrl-C or no network is one line on
stderr and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from orchestrator.cli.audit import add_audit_parser
from orchestrator.cli.chat import add_chat_parser
from orchestrator.cli.check_config import add_check_config_parser
from orchestrator.cli.dashboard import add_dashboard_parser
from orchestrator.cli.doctor import add_doctor_parser
from orchestrator.cli.health import add_health_parser
from orchestrator.cli.mcp_login import add_mcp_parser
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
    add_dashboard_parser,
    add_mcp_parser,
)


def package_version() -> str:
    try:
        return version("chatops-orchestrator")
    except PackageNotFoundError:
        return "unknown (not installed: run make install)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUB_COMMANDS:
        add(sub)
    return parser


def _quiet_stdout() -> None:
    """After a closed pipe: send what is left to /dev/null, so the exit flush cannot raise."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture)
        pass
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    try:
        return int(ns.func(ns) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except OSError as exc:  # no network, DNS failure, refused connection ...
        logging.getLogger(__name__).debug("command_failed", exc_info=True)
        print(f"orchestrator {ns.command}: {network_reason(exc)}", file=sys.stderr)
        return 1


def network_reason(exc: BaseException) -> str:
    """One line for an OS-level failure: what failed and why (the innermost cause)."""
    inner: BaseException = exc
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
    text = str(inner) or type(inner).__name__
    return f"{type(exc).__name__}: {text}" if inner is exc else f"{exc} ({text})"
