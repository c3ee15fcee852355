"""The MCP hub: one client session per configured server, one catalogue above them.

Layers as in the MCP SDK: the transport (stdio subprocess) only moves messages, `ClientSession`
speaks the protocol, and this module keeps the sessions and their tools together.
Each server lives in its own task because the SDK's transports must be entered and exited in
the same task.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import mcp_types as types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from orchestrator.config import Config, ServerSettings
from orchestrator.errors import ServerDown, ToolTimeout, UnknownTool
from orchestrator.protocols import ServerStatus
from orchestrator.tools import ToolResult, ToolSpec

log = logging.getLogger(__name__)


class ServerConnection:
    """One MCP server: started in a task of its own, stopped by setting `_stop`."""

    def __init__(self, name: str, settings: ServerSettings) -> None:
        self.name = name
        self.settings = settings
        self.session: ClientSession | None = None
        self.tools: list[ToolSpec] = []
        self.state = "starting" if settings.enabled else "disabled"
        self.last_error = ""
        self.restarts = 0
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Launch the server and wait until it is up or has failed (bounded by its timeout)."""
        if not self.settings.enabled:
            return
        self._task = asyncio.create_task(self._run(), name=f"mcp:{self.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.settings.startup_timeout_seconds)
        except TimeoutError:
            self._fail(f"did not start within {self.settings.startup_timeout_seconds:g}s")
            self._stop.set()

    async def _run(self) -> None:
        try:
            command, args = self.settings.launch_command()
            params = StdioServerParameters(
                command=command, args=args, env=self._env(), cwd=self.settings.cwd
            )
            with open(os.devnull, "w") as errlog:
                async with stdio_client(params, errlog=errlog) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        listed = await session.list_tools()
                        self.session = session
                        self.tools = [self._spec(t) for t in listed.tools]
                        self.state = "up"
                        log.info("mcp_server_up server=%s tools=%d", self.name, len(self.tools))
                        self._ready.set()
                        await self._stop.wait()
        except Exception as exc:  # noqa: BLE001 - any failure of one server is reported, not raised
            self._fail(_describe(exc))
        finally:
            self.session = None
            self._ready.set()

    def _env(self) -> dict[str, str] | None:
        return dict(self.settings.env) or None

    def _spec(self, tool: types.Tool) -> ToolSpec:
        return ToolSpec(self.name, tool.name, tool.description or "", dict(tool.input_schema or {}))

    def _fail(self, error: str) -> None:
        self.state = "down"
        self.last_error = error
        log.warning("mcp_server_down server=%s error=%s", self.name, error)

    def timeout_for(self, tool: str) -> float:
        return self.settings.tool_timeouts.get(tool, self.settings.timeout_seconds)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 10)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
        if self.state == "up":
            self.state = "stopped"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename}"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


class McpHub:
    """All configured MCP servers behind one catalogue (implements the ToolHub protocol)."""

    def __init__(self, servers: Mapping[str, ServerSettings]) -> None:
        self.connections = {name: ServerConnection(name, s) for name, s in servers.items()}

    @classmethod
    def from_config(cls, config: Config) -> McpHub:
        return cls(config.mcp_servers)

    async def start(self) -> None:
        """Start every server at once; the slowest one bounds start-up."""
        await asyncio.gather(*(c.start() for c in self.connections.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.connections.values()))

    def catalogue(self) -> list[ToolSpec]:
        return [t for c in self.connections.values() if c.state == "up" for t in c.tools]

    def status(self) -> list[ServerStatus]:
        return [
            ServerStatus(
                c.name, c.state, len(c.tools) if c.state == "up" else 0, c.last_error, c.restarts
            )
            for c in self.connections.values()
        ]

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> ToolResult:
        conn = self.connections.get(server)
        if conn is None:
            raise UnknownTool(f"no server named {server!r}")
        if conn.session is None or conn.state != "up":
            raise ServerDown(f"server {server} is down: {conn.last_error or conn.state}")
        if tool not in {t.name for t in conn.tools}:
            raise UnknownTool(f"server {server} has no tool {tool!r}")
        started = time.monotonic()
        outcome = "error"
        try:
            result = await asyncio.wait_for(
                conn.session.call_tool(tool, arguments), conn.timeout_for(tool)
            )
            outcome = "error_result" if result.is_error else "ok"
            return ToolResult(_result_text(result), bool(result.is_error))
        except TimeoutError:
            outcome = "timeout"
            raise ToolTimeout(
                f"{server}/{tool} did not answer within {conn.timeout_for(tool):g}s"
            ) from None
        finally:
            log.info(
                "tool_call server=%s tool=%s ms=%d outcome=%s arg_keys=%s",
                server,
                tool,
                (time.monotonic() - started) * 1000,
                outcome,
                ",".join(sorted(arguments)),
            )


def _result_text(result: Any) -> str:
    parts = []
    for block in getattr(result, "content", []) or []:
        text = getattr(block, "text", None)
        parts.append(text if text is not None else f"[{getattr(block, 'type', 'content')}]")
    if not parts and getattr(result, "structured_content", None) is not None:
        parts.append(str(result.structured_content))
    return "\n".join(parts)


async def connect_catalogue(config: Config) -> list[ToolSpec]:
    """Connect every configured server, list the catalogue, disconnect (for CLI commands)."""
    hub = McpHub.from_config(config)
    await hub.start()
    try:
        return hub.catalogue()
    finally:
        await hub.stop()
