"""The Telegram webhook: one route on the process's ASGI app (`orchestrator.web`), and its run loop.

This follows python-telegram-bot's documented custom-webhook pattern (its "customwebhookbot"
examples serve Starlette with uvicorn): the Application is initialized and started by hand, the
webhook is set with its secret token, each POST's update goes onto `app.update_queue` (the
`IntakeQueue`, which records it before the 200), and stop/shutdown run in order at the end.

The route sits on the same app and port as `/healthz`, `/metrics`, the OAuth callback and the
console: the `http:` section's server when it is set, otherwise a server of the same app (without
the console) on the webhook's own `listen`/`port`. An ASGI app sees the headers before the body,
so a wrong secret or an oversized declared length is refused before any body byte is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.ext import Application

from orchestrator.config import HttpSettings, WebhookSettings
from orchestrator.web.routes import Health, ProcessWeb, process_routes
from orchestrator.web.server import HttpProtocol, WebServer, build_app

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
App = Application[Any, Any, Any, Any, Any, Any]

MAX_BODY_BYTES = 1 << 20  # Telegram's updates are a few KB; 1 MB is plenty
# A refusal closes the connection: uvicorn (h11 and httptools alike) would otherwise keep it
# open and read the unread body to its end to reach the next request.
CLOSE = {"Connection": "close"}


class UpdateEndpoint:
    """POST <path>: one update from Telegram onto the application's queue.

    The secret token and the declared length are checked from the headers alone; the body is
    read only after them, and never past MAX_BODY_BYTES (a chunked body has no declared length)."""

    def __init__(self, app: App, secret_token: str | None) -> None:
        self.app = app
        self.secret = secret_token.encode() if secret_token else None

    async def post(self, request: Request) -> Response:
        if self.secret is not None:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not hmac.compare_digest(given, self.secret):
                return refuse(HTTPStatus.FORBIDDEN, "reason=secret_token")
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            return too_large()
        if not self.app.running:  # starting or stopping: Telegram sends it again later
            return refuse(HTTPStatus.SERVICE_UNAVAILABLE, "reason=not_running")
        body = await read_capped(request)
        if body is None:
            return too_large()
        update = self._update(body)
        if update is None:
            log.warning("telegram_webhook_rejected reason=not_an_update bytes=%d", len(body))
            return Response(status_code=HTTPStatus.BAD_REQUEST)
        try:
            await self.app.update_queue.put(update)  # returns once recorded (IntakeQueue)
        except Exception as exc:  # e.g. the store is down: not recorded, so Telegram resends
            log.error("telegram_webhook_error error=%s", type(exc).__name__)
            return Response(status_code=HTTPStatus.INTERNAL_SERVER_ERROR)
        return Response(status_code=HTTPStatus.OK)

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


async def read_capped(request: Request) -> bytes | None:
    """The body, or None as soon as it passes MAX_BODY_BYTES (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def refuse(status: HTTPStatus, why: str) -> Response:
    log.warning("telegram_webhook_rejected %s", why)
    return Response(status_code=status, headers=CLOSE)


def too_large() -> Response:
    return refuse(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"reason=body_too_large limit={MAX_BODY_BYTES}"
    )


def webhook_routes(app: App, hook: WebhookSettings) -> list[BaseRoute]:
    endpoint = UpdateEndpoint(app, hook.secret_token)
    return [Route("/" + hook.path.strip("/"), endpoint.post, methods=["POST"])]


def own_settings(hook: WebhookSettings, port: int | None) -> HttpSettings:
    """No `http:` section: the app is served on the webhook's own address (Heroku's $PORT)."""
    url = urlsplit(hook.url)
    origin = f"{url.scheme}://{url.netloc}" if url.scheme and url.netloc else None
    return HttpSettings(
        host=hook.listen, port=hook.port if port is None else port, public_url=origin
    )


def note_unused_address(hook: WebhookSettings, web: ProcessWeb) -> None:
    default = WebhookSettings(url=hook.url)
    if (hook.listen, hook.port) != (default.listen, default.port):
        log.warning(
            "telegram_webhook_address_unused listen=%s port=%d served_on=%s:%d "
            "hint='with an http: section the webhook is served on http.host/http.port'",
            hook.listen,
            hook.port,
            web.settings.host,
            web.port,
        )


@asynccontextmanager
async def webhook_server(
    app: App,
    hook: WebhookSettings,
    health: Health,
    *,
    web: ProcessWeb | None = None,
    port: int | None = None,
    protocol: HttpProtocol = "auto",
) -> AsyncIterator[int]:
    """Run the Application behind the process's web server; yields the port it listens on.

    `web`: the `http:` section's server, started by the core (the Application's post_init
    starts the core); without it, a server of our own on the webhook's address (`port=0`: any)."""
    routes = webhook_routes(app, hook)
    if web is not None:
        web.add_routes(routes)
        web.health = health
    await app.initialize()
    own: WebServer | None = None
    try:  # as PTB's run_webhook: once initialized, stop and shut down whatever fails next
        if app.post_init is not None:
            await app.post_init(app)
        await app.bot.set_webhook(
            url=hook.url, secret_token=hook.secret_token, allowed_updates=Update.ALL_TYPES
        )
        await app.start()
        if web is None:
            own_app = build_app([*routes, *process_routes(None, health=health)])
            own = WebServer(own_app, own_settings(hook, port), protocol)
            await own.start()
            bound = own.port
        else:
            if web.server is None:
                raise RuntimeError("the http: server did not start with the core")
            note_unused_address(hook, web)
            bound = web.port
        log.info("telegram_webhook_listening port=%d path=/%s", bound, hook.path.strip("/"))
        yield bound
    finally:
        if own is not None:
            await own.stop()
        if app.running:
            await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)  # stops the core, and with it the http: server


def run_webhook(app: App, hook: WebhookSettings, health: Health, web: ProcessWeb | None) -> None:
    """Serve until SIGINT or SIGTERM (the `web` process of a Procfile)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        async with webhook_server(app, hook, health, web=web):
            await stop.wait()

    asyncio.run(main())
