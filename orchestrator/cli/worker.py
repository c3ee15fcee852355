"""`orchestrator worker`: answer queued messages (`scale.mode: distributed`).

A worker runs the orchestrator (LLM, tools, memory) and posts through the platforms' HTTP APIs;
it needs no gateway connection. SIGTERM or Ctrl-C: finish the jobs in hand, give the partitions
back, exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from orchestrator.cli.common import SubParsers, add_config_option, load_or_report
from orchestrator.config import Config
from orchestrator.logsetup import configure_logging
from orchestrator.redact import Redactor

log = logging.getLogger(__name__)


def add_worker_parser(sub: SubParsers) -> None:
    worker = sub.add_parser("worker", help="answer queued messages (scale.mode: distributed)")
    add_config_option(worker)
    worker.add_argument("--name", help="consumer name (default: host-pid-random)")
    worker.set_defaults(func=cmd_worker)


def cmd_worker(ns: argparse.Namespace) -> int:
    config = load_or_report(ns.config)
    if config is None:
        return 2
    configure_logging(config.logging, Redactor(config.secrets))
    if config.scale.mode != "distributed":
        log.error("worker_not_distributed hint=set scale.mode: distributed and sessions.url")
        return 2
    scale = config.scale.model_copy(update={"role": "worker"})
    from orchestrator.admin.audit_sink import audit_trail  # not for other commands

    with audit_trail(config):
        return asyncio.run(serve(config.model_copy(update={"scale": scale}), ns.name))


async def serve(config: Config, name: str | None = None) -> int:
    # Imported here, not at the top: `orchestrator <other command>` never loads them.
    from orchestrator.app import build_orchestrator, build_worker, queue_client
    from orchestrator.queue.senders import SenderAdapter, load_senders

    senders = load_senders(config)
    if not senders:
        log.error("worker_has_no_sender hint=set TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN")
        return 2
    orchestrator = build_orchestrator(config)
    client = queue_client(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await orchestrator.start()
    try:
        for sender in senders.values():
            await sender.start()
            orchestrator.attach(SenderAdapter(sender))
        await build_worker(config, orchestrator, senders, client, name).run(stop)
    finally:
        for sender in senders.values():
            with contextlib.suppress(Exception):
                await sender.close()
        await orchestrator.stop()
        await client.aclose()
    return 0
