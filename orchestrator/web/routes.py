"""The routes of this process's one HTTP server: `/healthz`, `/metrics` and the console under
`/dashboard` and the OAuth callback `/oauth/callback`, and their start beside the core. A chat
platform adds its own (the Telegram webhook) with `ProcessWeb.add_routes` before the start."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from orchestrator import metrics
from orchestrator.console.app import console_app, make_signer
from orchestrator.console.auth import LinkSigner
from orchestrator.console.command import register_dashboard_command
from orchestrator.console.host import ConsoleHost
from orchestrator.identity.routes import identity_routes
from orchestrator.web.server import WebServer, build_app

log = logging.getLogger(__name__)

# Readiness beyond "the process answers": (healthy, details for the JSON body); a runner sets it.
Health = Callable[[], tuple[bool, dict[str, Any]]]


async def metrics_endpoint(request: Request) -> Response:
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


def health_endpoint(host: ConsoleHost | None, health: Health | None = None) -> Any:
    """200 with `{"ok": true, "status": "ok", ...}` while healthy, else 503 and "unavailable"."""

    async def healthz(request: Request) -> Response:
        detail: dict[str, Any] = {}
        if host is not None:
            statuses = host.services.hub.status()
            up = sum(s.state == "up" for s in statuses)
            detail = {"servers": len(statuses), "servers_up": up}
        healthy = True
        if health is not None:
            healthy, more = health()
            detail.update(more)
        body = {"ok": healthy, "status": "ok" if healthy else "unavailable", **detail}
        return JSONResponse(body, status_code=200 if healthy else 503)

    return healthz


async def to_console(request: Request) -> Response:
    return RedirectResponse("/dashboard/", status_code=307)


def process_routes(
    host: ConsoleHost | None,
    signer: LinkSigner | None = None,
    base_url: str = "",
    health: Health | None = None,
) -> list[BaseRoute]:
    """/healthz and /metrics always; the console when a host (the running core) is given.
    `health`: the runner's readiness check (else healthy while the process answers)."""
    routes: list[BaseRoute] = [
        Route("/healthz", health_endpoint(host, health)),
        Route("/metrics", metrics_endpoint),
    ]
    if host is not None:
        routes += identity_routes(host.services)  # /oauth/callback when OAuth servers exist
    if host is not None and signer is not None:
        routes += [
            Route("/dashboard", to_console),
            Mount("/dashboard", app=console_app(host, signer, base_url)),
        ]
    return routes


class ProcessWeb:
    """The web server of a process running the core: built before the adapters start (so the
    `/dashboard` command is declared with the others), listening once the core has started.
    A runner adds its routes (`add_routes`) and readiness check (`health`) before that start."""

    def __init__(self, host: Any) -> None:
        config = host.config
        assert config.http is not None
        self.settings = config.http
        self.signer = make_signer(config)
        self.host = host
        self.server: WebServer | None = None
        self.routes: list[BaseRoute] = []
        self.health: Health | None = None
        register_dashboard_command(host.commands, host, self.signer, lambda: self.base_url)

    @property
    def base_url(self) -> str:
        return self.server.base_url if self.server is not None else self.settings.base_url

    @property
    def port(self) -> int:
        return self.server.port if self.server is not None else self.settings.port

    def add_routes(self, routes: Sequence[BaseRoute]) -> None:
        """Serve these too (first, so a platform's path wins); only before the start."""
        if self.server is not None:
            raise RuntimeError("add routes before the web server starts")
        self.routes += routes

    async def start(self) -> None:
        own = process_routes(self.host, self.signer, self.settings.base_url, self.health)
        self.server = WebServer(build_app([*self.routes, *own]), self.settings)
        await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
        close = getattr(self.signer.nonces, "close", None)
        if close is not None:
            await close()


def attach_web(host: Any) -> ProcessWeb:
    """Serve `http:` beside the core: started with it, stopped before it."""
    web = ProcessWeb(host)
    host.on_start.append(web.start)
    host.on_stop.append(web.stop)
    host.web = web
    return web
