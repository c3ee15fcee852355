"""The Telegram application (python-telegram-bot 22): polling or webhook, and the entry point
`orchestrator run telegram` (`orchestrator.platforms:telegram`). Flood control is PTB's
AIORateLimiter, which waits out 429s; every update passes the intake queue, which records it
before Telegram learns we have it."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application

from bots.telegram.adapter import TelegramAdapter
from bots.telegram.intake import IntakeQueue
from bots.telegram.network_log import network_errors_in_one_line
from bots.telegram.webhook import App, run_webhook
from orchestrator.app import build_orchestrator
from orchestrator.config import Config, TelegramSettings
from orchestrator.core import Orchestrator
from orchestrator.web.routes import Health

log = logging.getLogger(__name__)

ADAPTER = "telegram_adapter"  # where create_application leaves the adapter, in bot_data


def create_application(
    settings: TelegramSettings, orchestrator: Orchestrator
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application, unstarted, with our handlers (tests and `run` both use this)."""
    if not settings.token:
        raise ValueError("bots.telegram.token is not set (TELEGRAM_BOT_TOKEN)")
    adapter = TelegramAdapter(orchestrator, settings)
    builder = (
        Application.builder()
        .token(settings.token)
        .rate_limiter(AIORateLimiter(max_retries=3))  # retries a 429: proven not delivered
        .concurrent_updates(True)
        .update_queue(IntakeQueue(adapter.accept))
        .post_init(adapter.on_startup)
    )
    if settings.request_timeout_seconds is not None:
        timeout = settings.request_timeout_seconds
        builder = builder.read_timeout(timeout).write_timeout(timeout)
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
        builder = builder.base_file_url(
            settings.base_file_url or settings.base_url.replace("/bot", "/file/bot")
        )
    app = builder.build()
    adapter.install(app)
    app.bot_data[ADAPTER] = adapter
    return app


def telegram_process(config: Config) -> tuple[App, Orchestrator, Health]:
    """The core and the Application of `orchestrator run telegram`: the Application's post_init
    starts the core (and with it the `http:` server), its post_shutdown stops it."""
    settings = config.bots.telegram
    orchestrator = build_orchestrator(config)
    app = create_application(settings, orchestrator)
    on_startup = app.post_init

    async def start(application: App) -> None:
        await orchestrator.start()
        if on_startup is not None:
            await on_startup(application)

    async def stop(application: App) -> None:
        await application.bot_data[ADAPTER].on_shutdown()
        await orchestrator.stop()

    app.post_init, app.post_shutdown = start, stop

    def health() -> tuple[bool, dict[str, Any]]:
        servers = orchestrator.services.hub.status()
        up = sum(s.state == "up" for s in servers)
        return app.running, {"servers_up": up, "servers": len(servers)}

    return app, orchestrator, health


def run_telegram(config: Config) -> int:
    """`orchestrator run telegram`: long polling, or the webhook on the process's web server."""
    settings = config.bots.telegram
    if not settings.token:
        log.error("telegram_not_configured hint=set TELEGRAM_BOT_TOKEN and bots.telegram.token")
        return 2
    app, orchestrator, health = telegram_process(config)
    with network_errors_in_one_line():
        return _run(app, orchestrator, settings, health)


def _run(app: App, orchestrator: Orchestrator, settings: TelegramSettings, health: Health) -> int:
    try:
        _serve(app, orchestrator, settings, health)
    except TelegramError as exc:
        # Start-up failures (bad token, no network): one clear line, never the token.
        log.error(
            "telegram_start_failed error=%s detail=%s",
            type(exc).__name__,
            str(exc).replace(str(settings.token), "***"),
        )
        return 2
    return 0


def _serve(
    app: App, orchestrator: Orchestrator, settings: TelegramSettings, health: Health
) -> None:
    """Long polling, or the webhook (with `GET /healthz` and `/metrics` on the same port) when
    `bots.telegram.webhook` is set: on the `http:` server when there is one."""
    hook = settings.webhook
    if hook is None:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    run_webhook(app, hook, health, orchestrator.web)
