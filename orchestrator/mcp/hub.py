"""The MCP hub: one supervised client session per configured server, one catalogue above them.

Layers as in the MCP SDK: `mcp_transport` only moves messages, `ClientSession` speaks the
protocol, and this module keeps sessions alive and their tools together. Each server lives in a
supervisor task of its own (the SDK's transports must be entered and exited in one task): it
connects, watches the session (a dead process fails in-flight calls at once and is noticed by a
ping within a second), marks the server down, and restarts it with exponential backoff and
jitter until the hub stops.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import IO, Any

import anyio
import mcp_types as types
from aiolimiter import AsyncLimiter
from mcp.client.session import ClientSession
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

from orchestrator import metrics, tracing
from orchestrator.audit import audit
from orchestrator.config import Config, ServerSettings
from orchestrator.config.secrets import secret_values
from orchestrator.errors import ServerDown, ToolTimeout, UnknownTool
from orchestrator.mcp.backoff import backoff_delay
from orchestrator.mcp.base import ServerStatus
from orchestrator.mcp.extras import ClientHooks
from orchestrator.mcp.hub_features import HubFeatures
from orchestrator.mcp.server_extras import ServerExtras
from orchestrator.mcp.tools import ToolResult, ToolSpec
from orchestrator.mcp.transport import open_transport
from orchestrator.media.files_out import block_file, block_note
from orchestrator.messages import OutFile
from orchestrator.redact import Redactor

log = logging.getLogger(__name__)

PING_INTERVAL = 1.0
PING_TIMEOUT = 5.0
STOP_TIMEOUT = 10.0
GONE = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename}"
    if isinstance(exc, TimeoutError):
        return "timed out while starting"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


class ServerConnection:
    """One MCP server, supervised: connect, watch, mark down, back off, restart."""

    def __init__(
        self,
        name: str,
        settings: ServerSettings,
        on_change: Callable[[], None] = lambda: None,
        auth: Any = None,
        hooks: ClientHooks | None = None,
    ) -> None:
        self.name = name
        self.auth = auth  # the SDK's OAuth provider (orchestrator.identity), else None
        self.settings = settings
        self.session: ClientSession | None = None
        self.tools: list[ToolSpec] = []
        self.state = "starting" if settings.enabled else "disabled"
        self.last_error = ""
        self.restarts = 0
        self._on_change = on_change
        # Prompts, resources, elicitation and sampling (issue 32): server_extras.py
        self.extras = ServerExtras(name, settings, hooks or ClientHooks(), on_change)
        self._redact = Redactor(secret_values(settings))
        rate = settings.rate_limit_per_second
        # Below one a second, one call per 1/rate seconds (a capacity under 1 admits no call).
        self._limiter = (
            (AsyncLimiter(rate, 1) if rate >= 1 else AsyncLimiter(1, 1 / rate)) if rate else None
        )
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._dead = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Launch the supervisor; return once the first attempt is up or has failed."""
        if not self.settings.enabled:
            return
        self._task = asyncio.create_task(self._supervise(), name=f"mcp:{self.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.settings.startup_timeout_seconds + 1)
        except TimeoutError:
            self._mark_down(f"did not start within {self.settings.startup_timeout_seconds:g}s")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is None:
            return
        # Only a session that is up watches `_stop` and closes cleanly; one still starting (an
        # OAuth server awaiting a person's sign-in, say) would hold the stop for STOP_TIMEOUT
        # before being cancelled, so it is cancelled at once.
        timeout = STOP_TIMEOUT if self.state == "up" else 0
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.state = "stopped"

    def restart(self) -> None:
        """End the running session; the supervisor starts the server again (the console)."""
        log.info("mcp_server_restart_requested server=%s", self.name)
        self._dead.set()

    async def _supervise(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            was_up = False
            with tempfile.TemporaryFile("w+") as errlog:
                try:
                    was_up = await self._run_once(errlog)
                    error = "" if self._stop.is_set() else "the server closed the connection"
                except Exception as exc:  # noqa: BLE001 - one server's failure is reported
                    error = _describe(exc)
                if error:
                    self._mark_down(self._with_stderr(error, errlog))
            self._ready.set()
            if self._stop.is_set():
                break
            attempt = 0 if was_up else attempt  # a server that came up starts over
            delay = backoff_delay(attempt)
            attempt += 1
            log.info("mcp_server_restart server=%s in_s=%.2f attempt=%d", self.name, delay, attempt)
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
            except TimeoutError:
                self.restarts += 1
                self.state = "starting"

    async def _run_once(self, errlog: IO[str]) -> bool:
        """Run one session until stop or death; True if it got as far as listing tools."""
        self._dead.clear()
        async with (
            open_transport(self.settings, errlog, self.auth) as (read, write),
            ClientSession(
                read, write, message_handler=self._on_message, **self.extras.session_callbacks()
            ) as session,
        ):
            await asyncio.wait_for(session.initialize(), self.settings.startup_timeout_seconds)
            await self._list_tools(session)
            await self.extras.load(session)
            self.session = session
            self.state, self.last_error = "up", ""
            log.info(
                "mcp_server_up server=%s tools=%d restarts=%d",
                self.name,
                len(self.tools),
                self.restarts,
            )
            self._ready.set()
            self._on_change()
            try:
                await self._watch(session)
            finally:
                self.session = None
        return True

    async def _watch(self, session: ClientSession) -> None:
        """Return when stopping or when the session is found dead (call failure or ping)."""
        while not self._stop.is_set() and not self._dead.is_set():
            stop = asyncio.ensure_future(self._stop.wait())
            dead = asyncio.ensure_future(self._dead.wait())
            done, pending = await asyncio.wait(
                {stop, dead}, timeout=PING_INTERVAL, return_when=asyncio.FIRST_COMPLETED
            )
            for future in pending:
                future.cancel()
            if done:
                return
            try:
                await asyncio.wait_for(session.send_ping(), PING_TIMEOUT)
            except (MCPError, TimeoutError, *GONE):
                return

    def _mark_down(self, error: str) -> None:
        was_up = self.state == "up"
        self.state, self.last_error, self.session = "down", self._redact(error), None
        self._dead.set()
        log.warning("mcp_server_down server=%s error=%s", self.name, self.last_error)
        if was_up:
            self._on_change()

    def _with_stderr(self, error: str, errlog: IO[str]) -> str:
        """Add the server's last stderr line: it usually says why a server would not start."""
        try:
            errlog.seek(0)
            lines = [line.strip() for line in errlog.read().splitlines() if line.strip()]
        except (OSError, ValueError):
            return error
        return f"{error}: {lines[-1][:200]}" if lines else error

    # -- catalogue ----------------------------------------------------------------------------
    async def _list_tools(self, session: ClientSession) -> None:
        tools: list[ToolSpec] = []
        cursor: str | None = None
        while True:
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            listed = await session.list_tools(params=params)
            tools.extend(
                ToolSpec(
                    self.name,
                    t.name,
                    t.description or "",
                    dict(t.input_schema or {}),
                    _annotations(t.annotations),
                )
                for t in listed.tools
            )
            cursor = getattr(listed, "next_cursor", None)
            if not cursor:
                break
        self.tools = tools

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification) and self.session is not None:
            asyncio.create_task(self._refresh(self.session))
        self.extras.handles(message, self.session)

    async def _refresh(self, session: ClientSession) -> None:
        try:
            await self._list_tools(session)
        except (MCPError, TimeoutError, *GONE) as exc:
            log.warning(
                "mcp_tools_refresh_failed server=%s error=%s", self.name, type(exc).__name__
            )
            return
        log.info("mcp_tools_changed server=%s tools=%d", self.name, len(self.tools))
        self._on_change()

    # -- calls --------------------------------------------------------------------------------
    def timeout_for(self, tool: str) -> float:
        return self.settings.tool_timeouts.get(tool, self.settings.timeout_seconds)

    async def call(
        self, tool: str, arguments: dict[str, Any], progress: ProgressFnT | None = None
    ) -> ToolResult:
        session = self.session
        if session is None or self.state != "up":
            raise ServerDown(
                f"server {self.name} is down" + (f": {self.last_error}" if self.last_error else "")
            )
        if self.extras.serves(tool, self.tools):
            return await self.extras.read(
                session, str(arguments.get("uri", "")), self.timeout_for(tool)
            )
        if tool not in {t.name for t in self.tools}:
            raise UnknownTool(f"server {self.name} has no tool {tool!r}")
        if self._limiter is not None:
            await self._limiter.acquire()
        timeout = self.timeout_for(tool)
        try:
            with self.extras.calling():  # a question the server asks meanwhile is for this request
                result = await session.call_tool(
                    tool, arguments, read_timeout_seconds=timeout, progress_callback=progress
                )
        except MCPError as exc:
            return self._call_error(exc, tool, timeout)
        except GONE:
            self._dead.set()
            raise ServerDown(f"server {self.name} went down during the call") from None
        text, files = _result_content(result)
        return ToolResult(text, bool(getattr(result, "is_error", False)), files)

    def _call_error(self, exc: MCPError, tool: str, timeout: float) -> ToolResult:
        if exc.error.code == REQUEST_TIMEOUT:
            raise ToolTimeout(
                f"{self.name}/{tool} did not answer within {timeout:g}s; the request was cancelled"
            ) from None
        if exc.error.code == CONNECTION_CLOSED:
            self._dead.set()
            raise ServerDown(f"server {self.name} went down during the call") from None
        return ToolResult(f"error: {exc.error.message}", is_error=True)


def _result_content(result: Any) -> tuple[str, tuple[OutFile, ...]]:
    """The text for the model, and the images and embedded files to post in the chat."""
    parts: list[str] = []
    files: list[OutFile] = []
    for block in getattr(result, "content", []) or []:
        file = block_file(block, len(files) + 1)
        if file is not None:
            files.append(file)
            parts.append(block_note(file))
            continue
        text = getattr(block, "text", None)
        parts.append(text if text is not None else f"[{getattr(block, 'type', 'content')}]")
    if not parts and getattr(result, "structured_content", None) is not None:
        parts.append(str(result.structured_content))
    return "\n".join(parts), tuple(files)


# Builds the connection of a server behind OAuth (orchestrator.identity wires it in app.py).
ConnectionFactory = Callable[[str, ServerSettings, Callable[[], None]], ServerConnection]


class McpHub(HubFeatures):
    """All configured MCP servers behind one catalogue (implements the ToolHub protocol)."""

    def __init__(
        self, servers: Mapping[str, ServerSettings], oauth: ConnectionFactory | None = None
    ) -> None:
        self.version = 0  # bumped whenever the catalogue may have changed
        self._listeners: list[Callable[[], None]] = []
        self._oauth = oauth
        self.hooks = ClientHooks()  # answers servers' elicitation and sampling (the core's)
        self.connections: dict[str, ServerConnection] = {
            name: self._connection(name, s) for name, s in servers.items()
        }

    @classmethod
    def from_config(cls, config: Config) -> McpHub:
        return cls(config.mcp_servers)

    def _connection(self, name: str, settings: ServerSettings) -> ServerConnection:
        if settings.auth is not None and self._oauth is not None:
            return self._oauth(name, settings, self._changed)
        return ServerConnection(name, settings, self._changed, hooks=self.hooks)

    def _changed(self) -> None:
        self.version += 1
        for listener in self._listeners:
            listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        """Start every server at once; the slowest one bounds start-up."""
        started = time.monotonic()
        await asyncio.gather(*(c.start() for c in self.connections.values()))
        up = sum(c.state == "up" for c in self.connections.values())
        log.info(
            "mcp_hub_ready servers=%d up=%d ms=%d",
            len(self.connections),
            up,
            (time.monotonic() - started) * 1000,
        )

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.connections.values()))

    async def apply(self, servers: Mapping[str, ServerSettings]) -> dict[str, list[str]]:
        """Reconcile with a reloaded `mcp_servers`: start added servers, stop removed ones,
        restart changed ones; untouched servers keep their process. Returns the names per
        change ("added", "removed", "restarted")."""
        old = self.connections
        added = [n for n in servers if n not in old]
        removed = [n for n in old if n not in servers]
        changed = [n for n in servers if n in old and old[n].settings != servers[n]]
        await asyncio.gather(*(old[n].stop() for n in (*removed, *changed)))
        fresh = {n: self._connection(n, servers[n]) for n in (*added, *changed)}
        self.connections = {n: fresh.get(n) or old[n] for n in servers}
        await asyncio.gather(*(c.start() for c in fresh.values()))
        if added or removed or changed:
            self._changed()
        log.info(
            "mcp_hub_applied added=%s removed=%s restarted=%s",
            ",".join(added),
            ",".join(removed),
            ",".join(changed),
        )
        return {"added": added, "removed": removed, "restarted": changed}

    def catalogue(self) -> list[ToolSpec]:
        return [
            t
            for c in self.connections.values()
            if c.state == "up"
            for t in (*c.tools, *c.extras.tool_specs(c.tools))
        ]

    def status(self) -> list[ServerStatus]:
        return [
            ServerStatus(
                c.name, c.state, len(c.tools) if c.state == "up" else 0, c.last_error, c.restarts
            )
            for c in self.connections.values()
        ]

    async def call(
        self, server: str, tool: str, arguments: dict[str, Any], progress: ProgressFnT | None = None
    ) -> ToolResult:
        conn = self.connections.get(server)
        if conn is None:
            raise UnknownTool(f"no server named {server!r}")
        started = time.monotonic()
        outcome = "error"
        with tracing.span("tool_call", server=server, tool=tool) as traced:
            try:
                result = await conn.call(tool, arguments, progress)
                outcome = "error_result" if result.is_error else "ok"
                return result
            except ToolTimeout:
                outcome = "timeout"
                raise
            except ServerDown:
                outcome = "server_down"
                raise
            finally:
                traced.set(outcome=outcome)
                elapsed_ms = (time.monotonic() - started) * 1000
                metrics.tool_called(server, tool, outcome, elapsed_ms / 1000)
                keys = ",".join(sorted(arguments))
                log.info(
                    "tool_call server=%s tool=%s ms=%d outcome=%s arg_keys=%s",
                    *(server, tool, elapsed_ms, outcome, keys),
                )
                audit(
                    "tool_call",
                    tool=f"{server}/{tool}",
                    arguments=arguments,
                    outcome=outcome,
                    duration_ms=elapsed_ms,
                )


async def connect_catalogue(config: Config) -> list[ToolSpec]:
    """Connect every configured server, list the catalogue, disconnect (for CLI commands)."""
    hub = McpHub.from_config(config)
    await hub.start()
    try:
        return hub.catalogue()
    finally:
        await hub.stop()


def _annotations(annotations: Any) -> dict[str, Any]:
    """The tool's hints as the spec names them (readOnlyHint ...), unset ones left out."""
    if annotations is None:
        return {}
    return dict(annotations.model_dump(by_alias=True, exclude_none=True))
