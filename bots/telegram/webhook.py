"""The Telegram webhook web process, with `GET /healthz` beside the webhook path.

PTB's `run_webhook` serves only the webhook path, and a Procfile platform's health check must
hit the same port. So this module serves both with tornado (the server PTB's own webhook mode
uses, already installed through `python-telegram-bot[webhooks]`), following PTB's documented
custom-webhook pattern: validate the secret token header, decode the update, put it on the
application's update queue. The Application's life cycle (initialize, post_init, start, stop,
shutdown, post_shutdown) runs as in `run_webhook`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Update
from telegram.ext import Application

from orchestrator.config import WebhookSettings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Health = Callable[[], tuple[bool, dict[str, Any]]]
App = Application[Any, Any, Any, Any, Any, Any]


MAX_BODY_BYTES = 1 << 20  # Telegram's updates are a few KB; 1 MB is plenty


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST <path>: one update from Telegram onto the application's queue.

    The body is streamed (`stream_request_body`), so `prepare` checks the secret token and the
    declared length from the headers alone: a stranger's POST is answered 403 and its connection
    closed before any of its body is read, and no body is held past MAX_BODY_BYTES."""

    def initialize(self, app: App, secret_token: str | None) -> None:
        self.app, self.secret_token = app, secret_token
        self.chunks: list[bytes] = []
        self.size = 0

    def prepare(self) -> None:
        if self.request.method != "POST":
            return
        if self.secret_token and self.request.headers.get(SECRET_HEADER) != self.secret_token:
            log.warning("telegram_webhook_rejected reason=secret_token")
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        declared = self.request.headers.get("Content-Length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            self._too_large()
        # a chunked body has no length: tornado stops reading it past the cap
        self.request.connection.set_max_body_size(MAX_BODY_BYTES)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_BODY_BYTES:
            self._too_large()
        self.chunks.append(chunk)

    def _too_large(self) -> None:
        log.warning("telegram_webhook_rejected reason=body_too_large limit=%d", MAX_BODY_BYTES)
        raise tornado.web.HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    async def post(self) -> None:
        update = self._update(b"".join(self.chunks))
        if update is None:
            log.warning("telegram_webhook_rejected reason=not_an_update bytes=%d", self.size)
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST)
        await self.app.update_queue.put(update)
        self.set_status(HTTPStatus.OK)

    def _update(self, body: bytes) -> Update | None:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError
            return None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        try:
            return Update.de_json(data, self.app.bot)
        except (TypeError, ValueError, KeyError, AttributeError):
            return None

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, tornado.web.HTTPError):  # refusals are logged where they happen
            return
        log.error("telegram_webhook_error error=%s", type(value).__name__)


class HealthHandler(tornado.web.RequestHandler):
    """GET /healthz: 200 while the bot runs, 503 otherwise; a small JSON body says why."""

    def initialize(self, health: Health) -> None:
        self.health = health

    def get(self) -> None:
        healthy, detail = self.health()
        self.set_status(HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": "ok" if healthy else "unavailable", **detail}))


def web_app(app: App, hook: WebhookSettings, health: Health) -> tornado.web.Application:
    path = "/" + hook.path.strip("/")
    return tornado.web.Application(
        [
            (path, UpdateHandler, {"app": app, "secret_token": hook.secret_token}),
            (r"/healthz", HealthHandler, {"health": health}),
        ]
    )


@asynccontextmanager
async def webhook_server(
    app: App, hook: WebhookSettings, health: Health, *, port: int | None = None
) -> AsyncIterator[int]:
    """Run the Application behind the web server; yields the bound port (`port=0`: any)."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.bot.set_webhook(
        url=hook.url, secret_token=hook.secret_token, allowed_updates=Update.ALL_TYPES
    )
    await app.start()
    server = tornado.httpserver.HTTPServer(web_app(app, hook, health))
    sockets = tornado.netutil.bind_sockets(hook.port if port is None else port, hook.listen)
    server.add_sockets(sockets)
    bound = int(sockets[0].getsockname()[1])
    log.info("telegram_webhook_listening port=%d path=/%s", bound, hook.path.strip("/"))
    try:
        yield bound
    finally:
        server.stop()
        await server.close_all_connections()
        if app.running:
            await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


def run_webhook_with_health(app: App, hook: WebhookSettings, health: Health) -> None:
    """Serve until SIGINT or SIGTERM (the `web` process of a Procfile)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        async with webhook_server(app, hook, health):
            await stop.wait()

    asyncio.run(main())
