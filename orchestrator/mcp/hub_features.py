"""The hub's prompts and resources across its servers (mixed into `McpHub`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mcp.client.session import ClientSession

from orchestrator.config import ServerSettings
from orchestrator.errors import ServerDown, UnknownTool
from orchestrator.mcp.extras import PromptSpec, ResourceSpec
from orchestrator.mcp.server_extras import ServerExtras


class Connected(Protocol):
    """The parts of the hub's `ServerConnection` used here."""

    state: str
    settings: ServerSettings
    session: ClientSession | None
    extras: ServerExtras


class HubFeatures:
    """Implements `extras.FeatureHub` over the hub's `connections`."""

    connections: Mapping[str, Connected]

    def prompts(self) -> list[PromptSpec]:
        return [p for c in self.connections.values() if c.state == "up" for p in c.extras.prompts]

    def resources(self) -> list[ResourceSpec]:
        return [r for c in self.connections.values() if c.state == "up" for r in c.extras.resources]

    def _up(self, server: str) -> Connected:
        conn = self.connections.get(server)
        if conn is None:
            raise UnknownTool(f"no server named {server!r}")
        if conn.session is None or conn.state != "up":
            raise ServerDown(f"server {server} is down")
        return conn

    async def get_prompt(
        self, server: str, name: str, arguments: dict[str, str]
    ) -> list[dict[str, Any]]:
        conn = self._up(server)
        assert conn.session is not None
        return await conn.extras.get_prompt(conn.session, name, arguments)

    async def read_resource(self, server: str, uri: str) -> str:
        conn = self._up(server)
        assert conn.session is not None
        result = await conn.extras.read(conn.session, uri, conn.settings.timeout_seconds)
        return result.text
