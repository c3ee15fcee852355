"""The agent loop: the LLM plans, MCP tools run (in parallel), until the model answers.

Write tools (listed under a server's `write_tools`) are never run by the loop itself: the loop
stops and hands back a pending confirmation, which a button press later runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.errors import LLMError, ToolError
from orchestrator.llm.base import LLM, ToolCall
from orchestrator.mcp.base import ToolHub
from orchestrator.mcp.names import ToolNameMap
from orchestrator.mcp.tools import ToolSpec
from orchestrator.sessions.model import PendingConfirmation

log = logging.getLogger(__name__)

MAX_TOOL_TEXT = 8000
CONFIRM_TTL_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class BuiltinTool:
    """A tool of our own offered to the LLM beside the MCP tools (schedules, tool search)."""

    schema: dict[str, Any]
    run: Callable[[dict[str, Any]], Awaitable[str | tuple[str, list[ToolSpec]]]]

    @property
    def name(self) -> str:
        return str(self.schema["function"]["name"])


@dataclass(slots=True)
class AgentResult:
    text: str
    tools_used: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    steps: int = 0
    pending: PendingConfirmation | None = None

    @property
    def success(self) -> bool:
        return not self.failures


def tool_schema(spec: ToolSpec, safe_name: str) -> dict[str, Any]:
    """An OpenAI function-tool schema for one MCP tool."""
    parameters = spec.input_schema or {"type": "object", "properties": {}}
    if parameters.get("type") != "object":
        parameters = {"type": "object", "properties": {}}
    description = f"[{spec.server}] {spec.description}".strip()[:1024]
    return {
        "type": "function",
        "function": {"name": safe_name, "description": description, "parameters": parameters},
    }


class AgentLoop:
    def __init__(
        self,
        llm: LLM,
        hub: ToolHub,
        names: ToolNameMap,
        *,
        max_steps: int,
        write_tools: set[str],
        user_id: str,
    ) -> None:
        self.llm, self.hub, self.names = llm, hub, names
        self.max_steps = max_steps
        self.write_tools = write_tools
        self.user_id = user_id
        self.result = AgentResult(text="")
        self.offered: dict[str, ToolSpec] = {}
        self.builtins: dict[str, BuiltinTool] = {}

    def offer(self, tools: Sequence[ToolSpec], builtins: Sequence[BuiltinTool] = ()) -> None:
        for spec in tools:
            self.offered[self.names.safe_name(spec.server, spec.name)] = spec
        for tool in builtins:
            self.builtins[tool.name] = tool

    def _schemas(self) -> list[dict[str, Any]]:
        schemas = [tool_schema(spec, name) for name, spec in self.offered.items()]
        return schemas + [tool.schema for tool in self.builtins.values()]

    async def run(self, messages: list[dict[str, Any]]) -> AgentResult:
        for step in range(1, self.max_steps + 1):
            self.result.steps = step
            turn = await self.llm.complete(messages, self._schemas())
            if not turn.tool_calls:
                self.result.text = (turn.content or "").strip() or "(the model gave no answer)"
                return self.result
            messages.append(_assistant_message(turn.content, turn.tool_calls))
            outputs = await asyncio.gather(*(self._run_call(c) for c in turn.tool_calls))
            messages.extend(
                {"role": "tool", "tool_call_id": c.id, "content": out}
                for c, out in zip(turn.tool_calls, outputs, strict=True)
            )
            if self.result.pending is not None:
                return self.result
        self.result.text = (
            f"I stopped after {self.max_steps} steps without a final answer. "
            "Try a narrower request."
        )
        self.result.failures.append("step limit")
        return self.result

    async def _run_call(self, call: ToolCall) -> str:
        if call.malformed:
            self.result.failures.append(call.name)
            return "error: the arguments were not a JSON object; call the tool again with one"
        if call.name in self.builtins:
            return await self._run_builtin(self.builtins[call.name], call)
        target = self.names.resolve(call.name)
        if target is None:
            self.result.failures.append(call.name)
            return f"error: there is no tool named {call.name}"
        server, tool = target
        key = f"{server}/{tool}"
        if key in self.write_tools:
            return self._ask_confirmation(server, tool, call.arguments)
        self.result.tools_used.append(key)
        try:
            result = await self.hub.call(server, tool, call.arguments)
        except ToolError as exc:
            self.result.failures.append(key)
            return f"error: {exc}"
        if result.is_error:
            self.result.failures.append(key)
        return result.text[:MAX_TOOL_TEXT]

    async def _run_builtin(self, tool: BuiltinTool, call: ToolCall) -> str:
        try:
            outcome = await tool.run(call.arguments)
        except Exception as exc:  # noqa: BLE001 - a failing built-in is reported to the model
            log.warning("builtin_tool_failed tool=%s error=%s", tool.name, type(exc).__name__)
            self.result.failures.append(tool.name)
            return f"error: {exc}"
        if isinstance(outcome, tuple):
            text, found = outcome
            self.offer(found)
            return text
        return outcome

    def _ask_confirmation(self, server: str, tool: str, arguments: dict[str, Any]) -> str:
        self.result.pending = PendingConfirmation(
            id=secrets.token_hex(4),
            user_id=self.user_id,
            server=server,
            tool=tool,
            arguments=arguments,
            expires_at=time.time() + CONFIRM_TTL_SECONDS,
        )
        args = json.dumps(arguments, ensure_ascii=False)[:600]
        self.result.text = f"I want to run **{server}/{tool}** with `{args}`. Shall I go ahead?"
        return "waiting for the user's confirmation"


def _assistant_message(content: str | None, calls: Sequence[ToolCall]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": content or "",
        "tool_calls": [
            {
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.raw_arguments or json.dumps(c.arguments),
                },
            }
            for c in calls
        ],
    }


__all__ = ["AgentLoop", "AgentResult", "BuiltinTool", "LLMError", "tool_schema"]
