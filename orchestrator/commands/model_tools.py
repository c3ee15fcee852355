"""Built-in tools the LLM gets beside the MCP tools, bound to one message's chat and user."""

from __future__ import annotations

from typing import Any

from orchestrator.llm.agent import BuiltinTool
from orchestrator.mcp.tools import ToolSpec
from orchestrator.messages import ChatMessage
from orchestrator.policy import tool_allowed
from orchestrator.routing.base import Router
from orchestrator.routing.metatool import run_search, search_tool_schema
from orchestrator.services import AppHost


def builtin_tools(app: AppHost, message: ChatMessage) -> list[BuiltinTool]:
    tools = []
    if app.services.router is not None:
        tools.append(_search_tool(app, app.services.router, message))
    tools.extend(app.services.builtin_tools)
    if app.message_tools is not None:
        tools.extend(app.message_tools(message))
    return tools


def _search_tool(app: AppHost, router: Router, message: ChatMessage) -> BuiltinTool:
    """Deferred loading: the model can find a tool it was not given in the first routing."""
    policy = app.chat_policy(message.chat_key)

    async def run(arguments: dict[str, Any]) -> tuple[str, list[ToolSpec]]:
        query = str(arguments.get("query", "")).strip()
        if not query:
            return "error: give a `query` describing the tool you need", []
        limit = int(arguments.get("limit", 5) or 5)
        await app.refresh_router()
        found = await run_search(
            router, query, min(max(limit, 1), 10), lambda t: tool_allowed(policy, t)
        )
        specs = [r.tool for r in found]
        if not specs:
            return "no matching tools", []
        lines = [f"{app.names.safe_name(t.server, t.name)}: {t.description[:150]}" for t in specs]
        return "These tools are now available to call:\n" + "\n".join(lines), specs

    return BuiltinTool(search_tool_schema(), run)
