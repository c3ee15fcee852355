"""`build_app` joins the parts' routes; `WebServer` runs them with uvicorn in this event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator, Sequence
from typing import Literal

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from orchestrator.config import HttpSettings

log = logging.getLogger(__name__)

# uvicorn's HTTP/1.1 parser: "auto" is httptools when installed, else h11 (tests pin each)
HttpProtocol = Literal["auto", "h11", "httptools"]


def build_app(routes: Sequence[BaseRoute], middleware: Sequence[Middleware] = ()) -> Starlette:
    """One ASGI app from every part's routes (first match wins, as in Starlette)."""
    return Starlette(routes=list(routes), middleware=list(middleware))


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: the process's own runner (PTB, discord.py, the
    worker) owns SIGINT/SIGTERM and stops this server with the rest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class WebServer:
    """uvicorn serving `app` on `settings.host:settings.port` as a task of the running loop.

    `start` returns once the socket listens (so `port` is known when 0 asked for any free one);
    `stop` lets in-flight requests finish, then closes."""

    def __init__(
        self, app: Starlette, settings: HttpSettings, protocol: HttpProtocol = "auto"
    ) -> None:
        self.app, self.settings = app, settings
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            http=protocol,
            log_config=None,  # our structured logging; uvicorn's loggers propagate to it
            access_log=False,
            lifespan="off",
        )
        self._server = _EmbeddedServer(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        servers = getattr(self._server, "servers", None) or []
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self.settings.port

    @property
    def base_url(self) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return f"http://{self.settings.host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="web-server")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the bind error
                raise RuntimeError("web server stopped before it started")
            await asyncio.sleep(0.01)
        log.info("web_server_started host=%s port=%d", self.settings.host, self.port)
        if self.settings.host not in ("127.0.0.1", "::1", "localhost") and not (
            self.settings.public_url or ""
        ).startswith("https://"):
            log.warning(
                "web_server_exposed host=%s reason=no_https_public_url "
                "hint='put TLS in front and set http.public_url to its https:// address'",
                self.settings.host,
            )

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        log.info("web_server_stopped")
