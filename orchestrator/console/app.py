"""The console as one ASGI app mounted at `/dashboard`: its routes, its session cookie, its
static files. Every page needs a signed-in person; every action a CSRF token and an admin."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from orchestrator.config import Config
from orchestrator.console.auth import LinkSigner, MemoryNonces, NonceLedger, RedisNonces
from orchestrator.console.host import ConsoleHost
from orchestrator.console.pages import HERE, Console
from orchestrator.console.signin import logout, signin_page
from orchestrator.console.views.approvals import approval_action, approvals
from orchestrator.console.views.audit import audit_json, audit_page
from orchestrator.console.views.chats import chat_action, chats
from orchestrator.console.views.config import config_page, config_reload
from orchestrator.console.views.delivery import delivery, delivery_action
from orchestrator.console.views.overview import overview
from orchestrator.console.views.schedules import schedule_action, schedules
from orchestrator.console.views.system import doctor, server_restart, servers, usage

COOKIE = "orchestrator_console"


def make_signer(config: Config, now: Callable[[], float] | None = None) -> LinkSigner:
    """Links signed with `dashboard.secret_key` (else a key drawn now, this process's own);
    single use through Redis when sessions use it, else in this process."""
    settings = config.dashboard
    nonces: NonceLedger = MemoryNonces()
    if config.sessions.backend == "redis" and config.sessions.url:
        client = aioredis.Redis.from_url(config.sessions.url, socket_timeout=5)
        nonces = RedisNonces(client, config.sessions.key_prefix)
    secret = settings.secret_key or secrets.token_urlsafe(32)
    extra = {"now": now} if now is not None else {}
    return LinkSigner(secret, nonces, settings.link_minutes * 60, **extra)


def console_app(host: ConsoleHost, signer: LinkSigner, base_url: str) -> Starlette:
    settings = host.config.dashboard
    routes = [
        Route("/", overview),
        Route("/signin", signin_page),
        Route("/logout", logout, methods=["POST"]),
        Route("/schedules", schedules),
        Route("/schedules/{sid}/{action}", schedule_action, methods=["POST"]),
        Route("/approvals", approvals),
        Route("/approvals/{action}", approval_action, methods=["POST"]),
        Route("/chats", chats),
        Route("/chats/{action}", chat_action, methods=["POST"]),
        Route("/audit", audit_page),
        Route("/audit.json", audit_json),
        Route("/config", config_page),
        Route("/config/reload", config_reload, methods=["POST"]),
        Route("/delivery", delivery),
        Route("/delivery/{action}", delivery_action, methods=["POST"]),
        Route("/usage", usage),
        Route("/servers", servers),
        Route("/servers/{name}/restart", server_restart, methods=["POST"]),
        Route("/doctor", doctor),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    # The cookie is signed with the links' key (a secret of its own would do as well).
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=signer.cookie_secret,
            session_cookie=COOKIE,
            max_age=int(settings.session_hours * 3600),
            same_site="lax",
            https_only=base_url.startswith("https://"),
        )
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.console = Console(host, signer, base_url)
    return app
