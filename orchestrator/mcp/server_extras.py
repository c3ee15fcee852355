"""One server's prompts and resources, and its requests back to us (elicitation, sampling).

Kept beside the hub's `ServerConnection`, which owns the session: this module lists what the
server offers when the session starts and again on `list_changed`, reads and renders prompts
and resources, and routes a server's question to the person whose call is running on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import mcp_types as types
from mcp.client.session import ClientRequestContext, ClientSession
from mcp.shared.exceptions import MCPError

from orchestrator.config import ServerSettings
from orchestrator.errors import ToolError
from orchestrator.mcp.extras import (
    RESOURCE_TOOL,
    ClientHooks,
    PromptArg,
    PromptSpec,
    RequestScope,
    ResourceSpec,
    as_tool,
    current_scope,
)
from orchestrator.mcp.tools import ToolResult, ToolSpec

log = logging.getLogger(__name__)

GONE = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError)
MAX_LISTED = 200  # prompts or resources kept per server
DESCRIPTION_CHARS = 1000
ENUM_URIS = 50  # up to this many resources, the tool's `uri` is an enum


class ServerExtras:
    """Prompts, resources, and the server-to-client requests of one connection."""

    def __init__(
        self,
        server: str,
        settings: ServerSettings,
        hooks: ClientHooks,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.server, self.settings, self.hooks = server, settings, hooks
        self.prompts: list[PromptSpec] = []
        self.resources: list[ResourceSpec] = []
        self._on_change = on_change
        self._running: dict[int, RequestScope] = {}  # calls in flight -> the request they serve
        self._next = 0
        self._tool: tuple[list[ResourceSpec], ToolSpec] | None = None

    # -- the session's callbacks --------------------------------------------------------------
    def session_callbacks(self) -> dict[str, Any]:
        """Keyword arguments for `ClientSession`: elicitation always (answered or declined);
        sampling only for a server with `sampling: true` (others are told we cannot)."""
        callbacks: dict[str, Any] = {"elicitation_callback": self._elicit}
        if self.settings.sampling:
            callbacks["sampling_callback"] = self._sample
        return callbacks

    @contextmanager
    def calling(self) -> Iterator[None]:
        """Mark a tool call in flight for the current request (see `requester`)."""
        scope = current_scope()
        if scope is None:
            yield
            return
        self._next += 1
        key = self._next
        self._running[key] = scope
        try:
            yield
        finally:
            del self._running[key]

    def requester(self) -> RequestScope | None:
        """The one request with calls running on this server; None when none or several (the
        protocol does not say which call a server's request belongs to)."""
        scopes = {s.who: s for s in self._running.values()}
        return next(iter(scopes.values())) if len(scopes) == 1 else None

    async def _elicit(
        self,
        context: ClientRequestContext,
        params: types.ElicitRequestFormParams | types.ElicitRequestURLParams,
    ) -> types.ElicitResult:
        scope = self.requester()
        if scope is None or self.hooks.elicit is None:
            reason = "no_requester" if scope is None else "no_handler"
            log.warning("elicitation_declined server=%s reason=%s", self.server, reason)
            return types.ElicitResult(action="decline")
        return await self.hooks.elicit(self.server, scope, params)

    async def _sample(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.ErrorData:
        if self.hooks.sample is None:
            return types.ErrorData(code=types.INVALID_REQUEST, message="sampling is not available")
        return await self.hooks.sample(self.server, self.settings, self.requester(), params)

    # -- listing ------------------------------------------------------------------------------
    async def load(self, session: ClientSession) -> None:
        """List prompts and resources, where the server declares them."""
        capabilities = session.server_capabilities
        if capabilities is None:
            return
        if capabilities.prompts is not None:
            self.prompts = await self._list_prompts(session)
        if capabilities.resources is not None:
            self.resources = await self._list_resources(session)

    async def _list_prompts(self, session: ClientSession) -> list[PromptSpec]:
        found: list[PromptSpec] = []
        cursor: str | None = None
        while len(found) < MAX_LISTED:
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            listed = await session.list_prompts(params=params)
            found.extend(
                PromptSpec(
                    self.server,
                    p.name,
                    p.description or "",
                    tuple(
                        PromptArg(a.name, a.description or "", bool(a.required))
                        for a in p.arguments or []
                    ),
                )
                for p in listed.prompts
            )
            cursor = getattr(listed, "next_cursor", None)
            if not cursor:
                break
        return found[:MAX_LISTED]

    async def _list_resources(self, session: ClientSession) -> list[ResourceSpec]:
        found: list[ResourceSpec] = []
        cursor: str | None = None
        while len(found) < MAX_LISTED:
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            listed = await session.list_resources(params=params)
            found.extend(
                ResourceSpec(
                    self.server, str(r.uri), r.name, r.description or "", r.mime_type or ""
                )
                for r in listed.resources
            )
            cursor = getattr(listed, "next_cursor", None)
            if not cursor:
                break
        return found[:MAX_LISTED] + await self._list_templates(session)

    async def _list_templates(self, session: ClientSession) -> list[ResourceSpec]:
        try:
            listed = await session.list_resource_templates()
        except MCPError:  # a server without templates may not answer the method at all
            return []
        return [
            ResourceSpec(
                self.server,
                t.uri_template,
                t.name,
                t.description or "",
                t.mime_type or "",
                template=True,
            )
            for t in listed.resource_templates[:MAX_LISTED]
        ]

    def handles(self, message: Any, session: ClientSession | None) -> bool:
        """A prompts/resources list_changed notification: refresh that list (in a task)."""
        if session is None:
            return False
        if isinstance(message, types.PromptListChangedNotification):
            asyncio.create_task(self._refresh(session, "prompts"))
            return True
        if isinstance(message, types.ResourceListChangedNotification):
            asyncio.create_task(self._refresh(session, "resources"))
            return True
        return False

    async def _refresh(self, session: ClientSession, which: str) -> None:
        try:
            if which == "prompts":
                self.prompts = await self._list_prompts(session)
                count = len(self.prompts)
            else:
                self.resources = await self._list_resources(session)
                count = len(self.resources)
        except (MCPError, TimeoutError, *GONE) as exc:
            log.warning(
                "mcp_list_refresh_failed server=%s list=%s error=%s",
                self.server,
                which,
                type(exc).__name__,
            )
            return
        log.info("mcp_list_changed server=%s list=%s count=%d", self.server, which, count)
        self._on_change()

    # -- the resource tool --------------------------------------------------------------------
    def tool_specs(self, tools: list[ToolSpec]) -> list[ToolSpec]:
        """This server's `read_resource` built-in for the catalogue (none without resources, or
        when the server has a tool of that name itself)."""
        if not self.resources or any(t.name == RESOURCE_TOOL for t in tools):
            return []
        # One object per listing: the allow-list cache keys the catalogue by its objects.
        if self._tool is None or self._tool[0] is not self.resources:
            self._tool = (self.resources, resource_tool(self.server, self.resources))
        return [self._tool[1]]

    def serves(self, tool: str, tools: list[ToolSpec]) -> bool:
        return tool == RESOURCE_TOOL and bool(self.tool_specs(tools))

    async def read(self, session: ClientSession, uri: str, timeout: float) -> ToolResult:
        """Read one resource for the current request, under its chat's allow-list."""
        scope = current_scope()
        if scope is not None and not scope.allowed(as_tool(self.server, uri)):
            log.warning("resource_refused server=%s uri=%s reason=not_allowed", self.server, uri)
            return ToolResult(f"error: {uri} is not allowed in this chat", is_error=True)
        try:
            result = await asyncio.wait_for(session.read_resource(uri), timeout)
        except TimeoutError:
            raise ToolError(f"{self.server}: reading {uri} took over {timeout:g}s") from None
        except MCPError as exc:
            return ToolResult(f"error: {exc.error.message}", is_error=True)
        parts = []
        for item in result.contents:
            if isinstance(item, types.TextResourceContents):
                parts.append(item.text)
            else:
                parts.append(
                    f"[binary {item.mime_type or 'data'}, {len(item.blob) * 3 // 4} bytes]"
                )
        return ToolResult("\n".join(parts) or "(empty)")

    async def get_prompt(
        self, session: ClientSession, name: str, arguments: dict[str, str]
    ) -> list[dict[str, Any]]:
        """The prompt's messages as chat-completion messages (text; other content named)."""
        result = await session.get_prompt(name, arguments or None)
        return [{"role": m.role, "content": content_text(m.content)} for m in result.messages]


def content_text(block: Any) -> str:
    text = getattr(block, "text", None)
    if text is not None:
        return str(text)
    resource = getattr(block, "resource", None)
    if resource is not None:
        inner = getattr(resource, "text", None)
        return str(inner) if inner is not None else f"[resource {resource.uri}]"
    return f"[{getattr(block, 'type', 'content')}]"


def resource_tool(server: str, resources: list[ResourceSpec]) -> ToolSpec:
    """The built-in that reads `server`'s resources; its description names each resource, so
    routing finds it for a request that names one (by its URI or what it is about)."""
    listed = "; ".join(
        f"{r.uri} ({(r.description or r.name).strip().splitlines()[0][:80]})"
        if (r.description or r.name).strip()
        else r.uri
        for r in resources
    )
    description = (
        f"Read a resource (a document or data) that the {server} server publishes, by its URI, "
        f"and get its text. Resources: {listed}"
    )[:DESCRIPTION_CHARS]
    uri: dict[str, Any] = {
        "type": "string",
        "description": "The resource's URI (fill in a template's {placeholders})",
    }
    if len(resources) <= ENUM_URIS and not any(r.template for r in resources):
        uri["enum"] = [r.uri for r in resources]
    schema = {"type": "object", "properties": {"uri": uri}, "required": ["uri"]}
    return ToolSpec(server, RESOURCE_TOOL, description, schema, {"readOnlyHint": True})
