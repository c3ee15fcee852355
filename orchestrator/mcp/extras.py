"""The MCP features beyond tools, as the core sees them: prompts, resources, and the requests a
server sends back (elicitation, sampling) with who they are for.

A server asks during a tool call, but the protocol does not say which call: the hub binds each
call to the request it serves (`RequestScope`, a context variable the core sets per message),
and a server's question goes to the one person whose calls are running on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import mcp_types as types

from orchestrator.config import ServerSettings
from orchestrator.mcp.tools import ToolSpec
from orchestrator.messages import ChatMessage

# The built-in tool each server with resources gets in the catalogue (unless it has its own).
RESOURCE_TOOL = "read_resource"


@dataclass(frozen=True, slots=True)
class PromptArg:
    name: str
    description: str = ""
    required: bool = False


@dataclass(frozen=True, slots=True)
class PromptSpec:
    """One MCP prompt: `/prompt <server> <name> key=value ...` in chat."""

    server: str
    name: str
    description: str = ""
    arguments: tuple[PromptArg, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.server}/{self.name}"

    def usage(self) -> str:
        args = " ".join(
            f"{a.name}=..." if a.required else f"[{a.name}=...]" for a in self.arguments
        )
        return f"/prompt {self.server} {self.name} {args}".rstrip()


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """One MCP resource a server lists."""

    server: str
    uri: str
    name: str = ""
    description: str = ""
    mime: str = ""
    template: bool = False  # `uri` is an RFC 6570 template (notes://pages/{name})

    @property
    def key(self) -> str:
        return f"{self.server}/{self.uri}"

    def named_in(self, text: str) -> bool:
        """Does the text name this resource (for a template: a URI it could make)?"""
        if not self.template:
            return self.uri in text
        fixed = self.uri.split("{", 1)[0]
        return "://" in fixed and fixed in text


def as_tool(server: str, name: str) -> ToolSpec:
    """A prompt or resource as the chat's allow-list sees it: `server/name` (`server/uri`), so
    `tools: [server]`, `server/*` and `deny: [server/<uri>]` apply as they do to tools."""
    return ToolSpec(server, name)


@dataclass(frozen=True, slots=True)
class RequestScope:
    """The request a tool call serves: who asked, where, and what this chat may use."""

    message: ChatMessage
    allowed: Callable[[ToolSpec], bool] = lambda spec: True

    @property
    def who(self) -> str:
        return f"{self.message.platform}:{self.message.chat_id}:{self.message.user_id}"


_scope: ContextVar[RequestScope | None] = ContextVar("mcp_request_scope", default=None)


def bind_scope(scope: RequestScope) -> None:
    """Name the request for the rest of this task (and the tasks it starts)."""
    _scope.set(scope)


def current_scope() -> RequestScope | None:
    return _scope.get()


ElicitHook = Callable[
    [str, RequestScope, types.ElicitRequestFormParams | types.ElicitRequestURLParams],
    Awaitable[types.ElicitResult],
]
SampleHook = Callable[
    [str, ServerSettings, RequestScope | None, types.CreateMessageRequestParams],
    Awaitable[types.CreateMessageResult | types.ErrorData],
]


@dataclass
class ClientHooks:
    """What answers a server's requests; set by the core, shared by every connection (a
    reloaded server keeps them). None: the request is declined."""

    elicit: ElicitHook | None = None
    sample: SampleHook | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class FeatureHub(Protocol):
    """The hub's prompts and resources (McpHub implements it; hubs in tests may not)."""

    hooks: ClientHooks

    def prompts(self) -> list[PromptSpec]: ...

    def resources(self) -> list[ResourceSpec]: ...

    async def get_prompt(
        self, server: str, name: str, arguments: dict[str, str]
    ) -> list[dict[str, Any]]: ...

    async def read_resource(self, server: str, uri: str) -> str: ...


def named_resource_tools(text: str, hub: object, catalogue: list[ToolSpec]) -> list[ToolSpec]:
    """The `read_resource` tools of the servers whose resources the text names by URI: a URI
    in a request always reaches the tool that reads it, whatever the ranking."""
    features = feature_hub(hub)
    if features is None or "://" not in text:
        return []
    servers = {r.server for r in features.resources() if r.named_in(text)}
    return [t for t in catalogue if t.name == RESOURCE_TOOL and t.server in servers]


def feature_hub(hub: object) -> FeatureHub | None:
    """The hub as a FeatureHub, or None for a hub without prompts and resources."""
    return hub if hasattr(hub, "prompts") and hasattr(hub, "hooks") else None  # type: ignore[return-value]
