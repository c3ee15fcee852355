"""The ToolHub seam: every connected MCP server behind one catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from orchestrator.mcp.tools import ToolResult, ToolSpec


@dataclass(frozen=True, slots=True)
class ServerStatus:
    name: str
    state: str  # "up" | "down" | "starting" | "disabled"
    tool_count: int = 0
    last_error: str = ""
    restarts: int = 0


class ToolHub(Protocol):
    """Every connected MCP server behind one catalogue."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def catalogue(self) -> list[ToolSpec]: ...

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> ToolResult: ...

    def status(self) -> list[ServerStatus]: ...
