"""`orchestrator dashboard`: serve the admin console (and /metrics, /healthz) from any process
that reaches the bot's stores, and print a one-time sign-in link (as Jupyter does).

It runs the core without its scheduler loop: it shows and changes schedules, the bot's own
processes run them. Posts (an approved plan's answer) go out through the platforms' HTTP APIs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from orchestrator.cli.common import SubParsers, add_config_option, load_or_report
from orchestrator.config import Config, HttpSettings
from orchestrator.logsetup import configure_logging
from orchestrator.redact import Redactor

log = logging.getLogger(__name__)


def add_dashboard_parser(sub: SubParsers) -> None:
    dash = sub.add_parser("dashboard", help="serve the admin console; prints a sign-in link")
    add_config_option(dash)
    dash.add_argument("--host", help="address to bind (default: http.host or 127.0.0.1)")
    dash.add_argument("--port", type=int, help="port (default: http.port or 8700)")
    dash.set_defaults(func=cmd_dashboard)


def cmd_dashboard(ns: argparse.Namespace) -> int:
    config = load_or_report(ns.config)
    if config is None:
        return 2
    configure_logging(config.logging, Redactor(config.secrets))
    http = config.http or HttpSettings()
    changes = {k: v for k, v in (("host", ns.host), ("port", ns.port)) if v is not None}
    config = config.model_copy(update={"http": http.model_copy(update=changes)})
    from orchestrator.admin.audit_sink import audit_trail  # not for other commands

    with audit_trail(config):
        return asyncio.run(serve(config))


async def serve(
    config: Config, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> int:
    """Serve until SIGINT/SIGTERM (or `stop`); `ready` is set once the link is printed."""
    from orchestrator.app import build_orchestrator
    from orchestrator.console.auth import ADMIN, LOCAL_USER
    from orchestrator.queue.senders import SenderAdapter, load_senders

    orchestrator = build_orchestrator(config)
    web = orchestrator.web
    senders = load_senders(config)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    scheduler, orchestrator.scheduler = orchestrator.scheduler, None  # shown here, run elsewhere
    await orchestrator.start()
    orchestrator.scheduler = scheduler
    try:
        for sender in senders.values():
            await sender.start()
            orchestrator.attach(SenderAdapter(sender))
        link = f"{web.base_url}/dashboard/signin?token={web.signer.token(LOCAL_USER, ADMIN)}"
        minutes = int(config.dashboard.link_minutes)
        print(f"Console: {web.base_url}/dashboard/", flush=True)
        print(f"Sign in (once, within {minutes} min): {link}", flush=True)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        for sender in senders.values():
            with contextlib.suppress(Exception):
                await sender.close()
        await orchestrator.stop()
    print("console stopped", file=sys.stderr)
    return 0
