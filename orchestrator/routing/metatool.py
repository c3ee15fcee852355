"""The `search_tools` meta-tool: the model asks for tools it was not given (deferred loading)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.base import RoutedTool, Router

SEARCH_TOOL_NAME = "search_tools"


def search_tool_schema() -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": SEARCH_TOOL_NAME,
            "description": (
                "Search every connected tool server for tools you were not given. Describe the "
                "action you need (e.g. 'create a task in ClickUp'); matching tools become "
                "callable in your next step."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "the action you need a tool for"},
                    "limit": {
                        "type": "integer",
                        "description": "how many tools (1-10)",
                        "default": 5,
                    },
                },
                "required": ["query"],
            },
        },
    }


async def run_search(
    router: Router, query: str, limit: int, allowed: Callable[[ToolSpec], bool] | None
) -> list[RoutedTool]:
    """Route the model's query over the whole catalogue (no threshold: it asked explicitly)."""
    vector, parts = await router.request_vectors(query)
    fused, _ = router.scores(query, vector, parts)
    out = []
    for i in fused.argsort()[::-1]:
        tool = router.tools[int(i)]
        if allowed is None or allowed(tool):
            out.append(RoutedTool(tool, float(fused[i])))
            if len(out) >= limit:
                break
    return out
