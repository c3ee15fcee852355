"""Built-in tools the LLM gets beside the MCP tools, bound to one message's chat and user."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from orchestrator.llm.agent import BuiltinTool
from orchestrator.mcp.tools import ToolSpec
from orchestrator.messages import ChatMessage
from orchestrator.policy import tool_allowed
from orchestrator.routing.base import Router
from orchestrator.routing.directory import build_directory
from orchestrator.routing.metatool import run_meta_tool, search_tool_schema
from orchestrator.services import AppHost

log = logging.getLogger(__name__)


def builtin_tools(
    app: AppHost, message: ChatMessage, offered: Sequence[ToolSpec] = ()
) -> list[BuiltinTool]:
    tools = []
    if app.services.router is not None:
        tools.append(_meta_tool(app, app.services.router, message, offered))
    tools.extend(app.services.builtin_tools)
    if app.message_tools is not None:
        tools.extend(app.message_tools(message))
    return tools


def _meta_tool(
    app: AppHost, router: Router, message: ChatMessage, offered: Sequence[ToolSpec]
) -> BuiltinTool:
    """Every allowed tool stays reachable: the tools not offered in full are listed, per server,
    in the meta-tool's description (tool metadata, not instructions), and the model loads them
    by name or finds them by a query."""
    policy = app.chat_policy(message.chat_key)

    def name_of(tool: ToolSpec) -> str:
        return app.names.safe_name(tool.server, tool.name)

    directory = build_directory(app.tool_groups(message.chat_key), offered)
    log.info("tool_directory chat=%s tokens=%d", message.chat_key, directory.tokens)

    async def run(arguments: dict[str, Any]) -> tuple[str, list[ToolSpec]]:
        await app.refresh_router()
        result = await run_meta_tool(
            router, arguments, lambda t: tool_allowed(policy, t), name_of=name_of
        )
        return result.text, result.tools

    return BuiltinTool(search_tool_schema(directory.text), run)
