"""Tool catalogue entries and results, shared by the hub, the router and the agent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.messages import OutFile


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One MCP tool as the core sees it: which server, its name, and its schema."""

    server: str
    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)
    # The MCP tool's `annotations` (readOnlyHint, destructiveHint ...), camelCase as on the wire.
    annotations: dict[str, Any] = field(default_factory=dict)
    # "server/name", made once: routing, policy and the directory read it for every tool of
    # every message.
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.server}/{self.name}")

    def required_params(self) -> list[str]:
        return list(self.input_schema.get("required", []) or [])


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool call returned, flattened to text for the LLM and the chat."""

    text: str
    is_error: bool = False
    files: tuple[OutFile, ...] = ()  # image and embedded-resource content, posted to the chat
