"""The OAuth test stand: an authorization server (tests/fakes/oauth_as.py) and a real MCP server
over streamable HTTP behind the SDK's server-side auth (`mcp.server.auth`: a token verifier and
`AuthSettings`), each served by uvicorn on 127.0.0.1; and the bot's own callback server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from cryptography.fernet import Fernet
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from orchestrator.config import HttpSettings, OAuthSettings, ServerSettings
from orchestrator.web import WebServer
from tests.fakes.oauth_as import FakeAuthServer

KEY = Fernet.generate_key().decode()


class _Late:
    """An ASGI app whose inner app is set once the port it listens on is known."""

    def __init__(self) -> None:
        self.inner: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.inner is not None
        await self.inner(scope, receive, send)


@dataclass
class Stand:
    auth_server: FakeAuthServer
    mcp_url: str

    def server(self, identity: str = "person", **auth: Any) -> ServerSettings:
        return ServerSettings(
            type="http",
            url=self.mcp_url,
            timeout_seconds=10,
            startup_timeout_seconds=10,
            auth=OAuthSettings(type="oauth", identity=identity, **auth),  # type: ignore[arg-type]
        )


def notes_server(issuer: str, resource: str, verifier: Any) -> MCPServer:
    """A server whose tool answers with the notes of whoever the token belongs to."""
    server = MCPServer(
        "notes",
        token_verifier=verifier,
        auth=AuthSettings(
            issuer_url=issuer, resource_server_url=resource, validate_token_resource=False
        ),
    )

    @server.tool(annotations={"readOnlyHint": True})
    def my_notes() -> str:
        """List my notes."""
        token = get_access_token()
        subject = token.subject if token else "nobody"
        return f"notes of {subject}: buy milk ({subject})"

    return server


@asynccontextmanager
async def oauth_stand() -> AsyncIterator[Stand]:
    auth_server = FakeAuthServer()
    as_web = WebServer(auth_server.app(), HttpSettings(port=0))  # type: ignore[arg-type]
    late = _Late()
    mcp_web = WebServer(late, HttpSettings(port=0))  # type: ignore[arg-type]
    await as_web.start()
    await mcp_web.start()
    auth_server.base_url = as_web.base_url
    mcp_url = f"{mcp_web.base_url}/mcp"
    server = notes_server(auth_server.base_url, mcp_url, auth_server.verifier)
    late.inner = server.streamable_http_app(
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
    # The session manager runs in a task of its own: its cancel scope must be entered and left
    # in one task (a pytest fixture sets up and tears down in different ones).
    import asyncio

    running, done = asyncio.Event(), asyncio.Event()

    async def manage() -> None:
        async with server.session_manager.run():
            running.set()
            await done.wait()

    manager = asyncio.create_task(manage())
    await running.wait()
    try:
        yield Stand(auth_server, mcp_url)
    finally:
        await mcp_web.stop()
        done.set()
        await manager
        await as_web.stop()


async def follow(link: str, user: str) -> httpx2.Response:
    """A person's browser: signed in at the authorization server as `user`, it follows the
    sign-in link and the redirect to the bot's callback."""
    async with httpx2.AsyncClient(cookies={"as_user": user}, follow_redirects=True) as browser:
        return await browser.get(link)


@dataclass
class BotSide:
    """The bot's half: its callback server, its gate, and the sign-in links it sent."""

    gate: Any
    web: WebServer
    links: Any  # asyncio.Queue[SignInLink]

    async def next_link(self, seconds: float = 10) -> Any:
        import asyncio

        return await asyncio.wait_for(self.links.get(), seconds)


@asynccontextmanager
async def bot_side(vault: Any) -> AsyncIterator[BotSide]:
    import asyncio

    from orchestrator.identity.gate import OAuthGate
    from orchestrator.identity.routes import callback_url, oauth_routes
    from orchestrator.identity.signins import SignIns
    from orchestrator.identity.vault_base import Sealer
    from orchestrator.web import build_app

    signins = SignIns()
    web = WebServer(build_app(oauth_routes(signins)), HttpSettings(port=0))
    await web.start()
    links: asyncio.Queue[Any] = asyncio.Queue()

    async def notify(link: Any) -> None:
        await links.put(link)

    gate = OAuthGate(vault, Sealer(KEY), signins, callback_url(web.base_url), notify)
    try:
        yield BotSide(gate, web, links)
    finally:
        await web.stop()
