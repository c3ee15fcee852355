"""The connections of servers behind OAuth, as the hub sees them.

`identity: bot`: one supervised session with the bot's own token (no sign-in at run time; an
admin signs in on the host). `identity: person`: `PersonalServer` opens one session per person,
on their first call, with their own token, and a call always goes through the requester's own
session: a person's token is never used for anyone else. The catalogue of a person server is
what any person's session listed (kept in the vault, so a restart still offers its tools).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from mcp.shared.dispatcher import ProgressFnT

from orchestrator.audit import current_requester
from orchestrator.config import ServerSettings
from orchestrator.errors import ServerDown
from orchestrator.identity.gate import OAuthGate, slot_for
from orchestrator.identity.vault_base import BOT_SLOT
from orchestrator.mcp.extras import ClientHooks
from orchestrator.mcp.hub import ServerConnection
from orchestrator.mcp.server_extras import ServerExtras
from orchestrator.mcp.tools import ToolResult, ToolSpec

log = logging.getLogger(__name__)

CATALOGUE_SLOT = "_catalogue"


def oauth_connections(gate: OAuthGate) -> Callable[..., ServerConnection]:
    """The hub's factory for servers with `auth:` (see `McpHub(oauth=...)`)."""

    def make(name: str, settings: ServerSettings, on_change: Callable[[], None]) -> Any:
        assert settings.auth is not None
        if settings.auth.identity == "person":
            return PersonalServer(name, settings, gate, on_change)
        provider = gate.provider(name, settings, BOT_SLOT, interactive=False)
        return ServerConnection(name, settings, on_change, auth=provider)

    return make


class PersonalServer:
    """Looks like one `ServerConnection` to the hub; holds one per person inside."""

    def __init__(
        self,
        name: str,
        settings: ServerSettings,
        gate: OAuthGate,
        on_change: Callable[[], None],
    ) -> None:
        assert settings.auth is not None
        self.name, self.settings, self.gate = name, settings, gate
        self.tools: list[ToolSpec] = []
        self.last_error = ""
        self.restarts = 0
        self._on_change = on_change
        # Prompts, resources and server questions are not offered through per-person sessions
        # (their lists are per person); the hub sees an empty set.
        self.extras = ServerExtras(name, settings, ClientHooks(), on_change)
        self._people: dict[str, ServerConnection] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # A person's first session waits for their sign-in as long as the sign-in may take.
        self._session_settings = settings.model_copy(
            update={
                "startup_timeout_seconds": settings.startup_timeout_seconds
                + settings.auth.sign_in_timeout_seconds
            }
        )

    @property
    def state(self) -> str:
        if not self.settings.enabled:
            return "disabled"
        return "up" if self.tools else "needs sign-in"

    async def start(self) -> None:
        if not self.settings.enabled:
            return
        sealed = await self.gate.records(self.name).read(CATALOGUE_SLOT)
        if sealed and not self.tools:
            self.tools = [ToolSpec(self.name, *t) for t in sealed.get("tools", [])]
            self._on_change()

    async def stop(self) -> None:
        people, self._people = self._people, {}
        await asyncio.gather(*(c.stop() for c in people.values()))

    def timeout_for(self, tool: str) -> float:
        return self.settings.tool_timeouts.get(tool, self.settings.timeout_seconds)

    async def call(
        self, tool: str, arguments: dict[str, Any], progress: ProgressFnT | None = None
    ) -> ToolResult:
        requester = current_requester()
        if not requester.user_id:
            raise ServerDown(f"{self.name} acts for a person, and this call has none")
        slot = slot_for(self.settings, requester.platform, requester.user_id)
        connection = await self.session_for(slot)
        return await connection.call(tool, arguments, progress)

    async def session_for(self, slot: str) -> ServerConnection:
        """This person's session, opened (with a sign-in if they have no token) when needed."""
        lock = self._opening.setdefault(slot, asyncio.Lock())
        async with lock:
            connection = self._people.get(slot)
            if connection is not None and connection.state == "up":
                return connection
            if connection is not None:
                await connection.stop()
            provider = self.gate.provider(self.name, self.settings, slot)
            connection = ServerConnection(
                self.name, self._session_settings, lambda: self._changed(slot), auth=provider
            )
            self._people[slot] = connection
            await connection.start()
            if connection.state != "up":
                self._people.pop(slot, None)
                await connection.stop()  # no retries: the person's next call tries again
                raise ServerDown(f"{self.name}: {connection.last_error or 'could not connect'}")
            await self._learned(connection.tools)
            return connection

    async def sign_out(self, slot: str) -> bool:
        connection = self._people.pop(slot, None)
        if connection is not None:
            await connection.stop()
        return await self.gate.logout(self.name, slot)

    def _changed(self, slot: str) -> None:
        connection = self._people.get(slot)
        if connection is not None and connection.state == "down":
            self.last_error = connection.last_error
            # A dead session is not restarted in the background (a sign-in needs the person):
            # the person's next call opens a fresh one.
            self._people.pop(slot, None)
            self._later(connection.stop())
            return
        if connection is not None and connection.tools != self.tools:
            self._later(self._learned(connection.tools))

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._tasks.discard)

    async def _learned(self, tools: list[ToolSpec]) -> None:
        if tools == self.tools:
            return
        self.tools = list(tools)
        listed = [[t.name, t.description, t.input_schema, t.annotations] for t in tools]
        await self.gate.records(self.name).write(CATALOGUE_SLOT, {"tools": listed})
        log.info("oauth_catalogue_learned server=%s tools=%d", self.name, len(tools))
        self._on_change()


class RefusedServer:
    """An OAuth server that cannot start (no token key): down, saying why, for everyone."""

    def __init__(self, name: str, settings: ServerSettings, reason: str) -> None:
        self.name, self.settings, self.last_error = name, settings, reason
        self.tools: list[ToolSpec] = []
        self.state = "down"
        self.restarts = 0

    async def start(self) -> None:
        log.error("oauth_server_refused server=%s reason=%s", self.name, self.last_error)

    async def stop(self) -> None:
        return None

    async def call(self, tool: str, arguments: dict[str, Any], progress: Any = None) -> ToolResult:
        raise ServerDown(f"server {self.name} is down: {self.last_error}")


def refused_connections(reason: str) -> Callable[..., Any]:
    def make(name: str, settings: ServerSettings, on_change: Callable[[], None]) -> Any:
        return RefusedServer(name, settings, reason)

    return make
