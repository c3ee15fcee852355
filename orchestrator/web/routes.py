"""The routes of this process's one HTTP server: `/healthz`, `/metrics` and the console under
`/dashboard` and the OAuth callback `/oauth/callback`, and their start beside the core."""

from __future__ import annotations

import logging
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


async def metrics_endpoint(request: Request) -> Response:
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


def health_endpoint(host: ConsoleHost | None) -> Any:
    async def healthz(request: Request) -> Response:
        if host is None:
            return JSONResponse({"ok": True})
        statuses = host.services.hub.status()
        up = sum(s.state == "up" for s in statuses)
        return JSONResponse({"ok": True, "servers": len(statuses), "servers_up": up})

    return healthz


async def to_console(request: Request) -> Response:
    return RedirectResponse("/dashboard/", status_code=307)


def process_routes(
    host: ConsoleHost | None, signer: LinkSigner | None = None, base_url: str = ""
) -> list[BaseRoute]:
    """/healthz and /metrics always; the console when a host (the running core) is given."""
    routes: list[BaseRoute] = [
        Route("/healthz", health_endpoint(host)),
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
    `/dashboard` command is declared with the others), listening once the core has started."""

    def __init__(self, host: Any) -> None:
        config = host.config
        assert config.http is not None
        self.settings = config.http
        self.signer = make_signer(config)
        self.host = host
        self.server: WebServer | None = None
        register_dashboard_command(host.commands, host, self.signer, lambda: self.base_url)

    @property
    def base_url(self) -> str:
        return self.server.base_url if self.server is not None else self.settings.base_url

    async def start(self) -> None:
        app = build_app(process_routes(self.host, self.signer, self.settings.base_url))
        self.server = WebServer(app, self.settings)
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
