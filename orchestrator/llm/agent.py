"""The agent loop: the LLM plans, MCP tools run (in parallel), until the model answers.

A step's calls that need approval (approvals.py) never run by themselves: the loop pauses and
hands back one confirmation listing all of them, while the step's other calls run at once. The
paused loop (transcript, waiting calls) is stored with the session; `resume` continues it after
Run all or Cancel, in this process or another. A call runs only when it names a tool offered in
this request. The first identical repeat of a call (same tool, same arguments) is answered from
its first run and ends the tool phase: the model is asked once more, without tools. An empty
answer is asked again once, without tools, before the user is told.
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
from orchestrator.llm.approvals import ApprovalRules, describe_call
from orchestrator.llm.base import LLM, LLMTurn, ToolCall
from orchestrator.llm.guard import RepeatGuard, TokenBudget
from orchestrator.llm.output_budget import fit_output
from orchestrator.mcp.base import ToolHub
from orchestrator.mcp.names import ToolNameMap
from orchestrator.mcp.tools import ToolSpec
from orchestrator.media.prompt import content_tokens
from orchestrator.messages import OutFile
from orchestrator.progress import THINKING, report, running
from orchestrator.sessions.model import PendingCall, PendingConfirmation

log = logging.getLogger(__name__)

FINAL_ASK = (
    "Answer the request now from the tool results above, without calling any tool; say what "
    "you could not finish."
)
EMPTY_ASK = (
    "Your last answer was empty. Answer the request now, in words, without calling any tool."
)
EMPTY_ANSWER = (
    "The model returned an empty answer. Please rephrase or try again; "
    "if it keeps happening, check the model server (README: LLM servers)."
)
DECLINED = "The user declined this call (Cancel); it did not run. Do not retry it."
APPROVED_NOTE = "The user approved this call (Run all)."


@dataclass(frozen=True, slots=True)
class BuiltinTool:
    """A tool of our own offered to the LLM beside the MCP tools (schedules, tool search)."""

    schema: dict[str, Any]
    run: Callable[[dict[str, Any]], Awaitable[str | tuple[str, list[ToolSpec]]]]
    # Set for a tool that changes what happens later (creating a schedule): the call waits for
    # the person's Run all like a write tool, shown as the line this returns (it raises to
    # refuse the call at once, e.g. a when-phrase that does not parse).
    confirm: Callable[[dict[str, Any]], Awaitable[str]] | None = None

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
    cut: bool = False  # the model's answer was cut off at max_tokens
    placeholder: bool = False  # `text` is ours (no answer, budget): never history or memory
    files: list[OutFile] = field(default_factory=list)  # tools' images and files, for the chat

    @property
    def success(self) -> bool:
        return not self.failures and not self.cut and not self.placeholder

    @property
    def is_answer(self) -> bool:
        """The model's own complete answer: worth keeping as a turn and a memory."""
        return self.pending is None and not self.cut and not self.placeholder


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


@dataclass(frozen=True, slots=True)
class LoopLimits:
    max_steps: int = 8
    tool_output_tokens: int = 2000
    request_tokens: int = 60000
    confirm_ttl_seconds: float = 15 * 60


class AgentLoop:
    def __init__(
        self,
        llm: LLM,
        hub: ToolHub,
        names: ToolNameMap,
        *,
        rules: ApprovalRules,
        user_id: str,
        limits: LoopLimits | None = None,
        allowed: Callable[[ToolSpec], bool] = lambda spec: True,
        preapproved: frozenset[str] = frozenset(),
    ) -> None:
        self.llm, self.hub, self.names = llm, hub, names
        self.rules, self.user_id = rules, user_id
        self.limits = limits or LoopLimits()
        self.allowed = allowed
        self.preapproved = preapproved  # "server/tool" approved in advance (a schedule's)
        self.result = AgentResult(text="")
        self.offered: dict[str, ToolSpec] = {}
        self.builtins: dict[str, BuiltinTool] = {}
        self.guard = RepeatGuard()
        self.budget = TokenBudget(self.limits.request_tokens)
        self._waiting: list[PendingCall] = []
        self._repeated = False  # this step repeated an earlier call

    def offer(self, tools: Sequence[ToolSpec], builtins: Sequence[BuiltinTool] = ()) -> None:
        """Make tools callable in this request; a tool this chat may not use is never offered."""
        for spec in tools:
            if self.allowed(spec):
                self.offered[self.names.safe_name(spec.server, spec.name)] = spec
        for tool in builtins:
            self.builtins[tool.name] = tool

    def _schemas(self) -> list[dict[str, Any]]:
        schemas = [tool_schema(spec, name) for name, spec in self.offered.items()]
        return schemas + [tool.schema for tool in self.builtins.values()]

    # -- running ------------------------------------------------------------------------------
    async def run(self, messages: list[dict[str, Any]], request: str = "") -> AgentResult:
        self._request = request
        return await self._loop(messages, first_step=1)

    async def resume(self, plan: PendingConfirmation, *, approved: bool) -> AgentResult:
        """Continue a paused loop after Run all (run the waiting calls) or Cancel."""
        self._request = plan.request
        self.result.steps = plan.steps
        self.result.tools_used = list(plan.tools_used)
        self.result.failures = list(plan.failures)
        self.guard = RepeatGuard(plan.done)
        self.budget = TokenBudget(self.limits.request_tokens, plan.tokens)
        messages = list(plan.messages)
        if approved:
            report(running([c.key for c in plan.calls]))
            outputs = await asyncio.gather(*(self._run_approved(c) for c in plan.calls))
        else:
            outputs = [DECLINED] * len(plan.calls)
        messages.extend(
            {"role": "tool", "tool_call_id": c.call_id, "content": out}
            for c, out in zip(plan.calls, outputs, strict=True)
        )
        return await self._loop(messages, first_step=plan.steps + 1)

    async def _loop(self, messages: list[dict[str, Any]], first_step: int) -> AgentResult:
        for step in range(first_step, self.limits.max_steps + 1):
            self.result.steps = step
            if self.budget.exhausted:
                return self._stop_for_budget()
            turn = await self._complete(messages, self._schemas())
            if not turn.tool_calls:
                if not (turn.content or "").strip() and not turn.cut:
                    # Some servers (llama-cpp-python's chatml-function-calling) answer only with
                    # a tool call while tools are offered: ask for the answer without them.
                    log.info("llm_empty_answer step=%d; asking again without tools", step)
                    ask = FINAL_ASK if self.result.tools_used else EMPTY_ASK
                    return await self._final_answer(messages, ask, EMPTY_ANSWER)
                return self._answer(turn)
            messages.append(_assistant_message(turn.content, turn.tool_calls))
            report(running([self._label(c) for c in turn.tool_calls]))
            self._repeated = False
            outputs = await asyncio.gather(*(self._run_call(c) for c in turn.tool_calls))
            messages.extend(
                {"role": "tool", "tool_call_id": c.id, "content": out}
                for c, out in zip(turn.tool_calls, outputs, strict=True)
                if out is not None
            )
            if self._waiting:
                return self._pause(messages)
            if self._repeated:
                # A repeat would only get the same result again: the tool phase is over.
                return await self._final_answer(messages)
        return await self._final_answer(messages)

    async def _complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMTurn:
        self.budget.spend(sum(content_tokens(m.get("content")) for m in messages))
        report(THINKING)
        turn = await self.llm.complete(messages, tools)
        self.budget.spend(int(turn.usage.get("completion_tokens", 0)))
        return turn

    def _answer(self, turn: LLMTurn) -> AgentResult:
        text = (turn.content or "").strip()
        if turn.cut:
            self.result.cut = True
            self.result.text = (
                (text + "\n\n" if text else "")
                + '(My answer was cut off at the length limit. Say "continue" for the rest, '
                "or ask for something shorter.)"
            )
        elif not text:
            self.result.placeholder = True
            self.result.text = EMPTY_ANSWER
        else:
            self.result.text = text
        return self.result

    async def _final_answer(
        self, messages: list[dict[str, Any]], ask: str = FINAL_ASK, fallback: str = ""
    ) -> AgentResult:
        """Ask once more without tools (step limit, a repeated call, an empty answer), so the
        results are not thrown away; `fallback` (or "I stopped after...") if still no answer."""
        if not self.budget.exhausted:
            asked = [*messages, {"role": "user", "content": ask}]
            turn = await self._complete(asked, [])
            if (turn.content or "").strip() and not turn.tool_calls:
                return self._answer(turn)
        self.result.placeholder = True
        self.result.text = fallback or (
            f"I stopped after {self.result.steps} step(s) without a final answer. "
            "Try a narrower request."
        )
        return self.result

    def _stop_for_budget(self) -> AgentResult:
        log.warning("request_token_budget_spent used=%d", self.budget.used)
        self.result.placeholder = True
        self.result.text = (
            f"I stopped: this request used its budget of about {self.limits.request_tokens:,} "
            "tokens before the model finished. Try a narrower request (e.g. one list or one date "
            "range)."
        )
        return self.result

    # -- one call -----------------------------------------------------------------------------
    def _label(self, call: ToolCall) -> str:
        """The tool as people see it in the summary: server/tool (a built-in: its name)."""
        spec = self.offered.get(call.name)
        return spec.key if spec is not None else call.name

    async def _run_call(self, call: ToolCall) -> str | None:
        """The text the model gets back, or None when the call waits for approval."""
        if call.malformed:
            self.result.failures.append(call.name)
            return "error: the arguments were not a JSON object; call the tool again with one"
        if call.name in self.builtins:
            tool = self.builtins[call.name]
            if tool.confirm is not None:
                return await self._hold_builtin(tool, call)
            return await self._run_builtin(tool, call)
        spec = self.offered.get(call.name)
        if spec is None or not self.allowed(spec):
            log.warning("tool_call_refused name=%s reason=not_offered", call.name[:64])
            return (
                f"error: {call.name} is not one of the tools offered to you in this chat, so it "
                "did not run. Use only the tools you were given."
            )
        earlier = self.guard.earlier(call.name, call.arguments)
        if earlier is not None:
            log.info("tool_call_repeated tool=%s; ending the tool phase", spec.key)
            self._repeated = True
            return earlier
        if self.rules.needs_approval(spec) and spec.key not in self.preapproved:
            self._waiting.append(
                PendingCall(
                    call.id,
                    call.name,
                    spec.server,
                    spec.name,
                    call.arguments,
                    describe_call(spec, call.arguments),
                )
            )
            return None
        return await self._run_tool(spec, call.name, call.arguments)

    async def _run_tool(self, spec: ToolSpec, name: str, arguments: dict[str, Any]) -> str:
        self.result.tools_used.append(spec.key)
        try:
            result = await self.hub.call(spec.server, spec.name, arguments)
        except ToolError as exc:
            self.result.failures.append(spec.key)
            output = f"error: {exc}"
        else:
            if result.is_error:
                self.result.failures.append(spec.key)
            self.result.files.extend(result.files)
            output = fit_output(result.text, self.limits.tool_output_tokens, spec.input_schema)
        self.guard.record(name, arguments, output)
        return output

    async def _hold_builtin(self, tool: BuiltinTool, call: ToolCall) -> str | None:
        """A built-in that needs the person's press: described now, run after Run all."""
        assert tool.confirm is not None
        try:
            label = await tool.confirm(call.arguments)
        except Exception as exc:  # noqa: BLE001 - a refused call is reported to the model
            log.info("builtin_tool_refused tool=%s error=%s", tool.name, type(exc).__name__)
            self.result.failures.append(tool.name)
            return f"error: {exc}"
        self._waiting.append(PendingCall(call.id, call.name, "", tool.name, call.arguments, label))
        return None

    async def _run_approved(self, call: PendingCall) -> str:
        if call.is_builtin:
            tool = self.builtins.get(call.name)
            if tool is None:
                return f"error: {call.name} is no longer available in this chat"
            call_now = ToolCall(call.call_id, call.name, call.arguments)
            return APPROVED_NOTE + "\n" + await self._run_builtin(tool, call_now)
        spec = self.offered.get(call.name)
        if spec is None or spec.key != call.key or not self.allowed(spec):
            return f"error: {call.key} is no longer available in this chat"
        return APPROVED_NOTE + "\n" + await self._run_tool(spec, call.name, call.arguments)

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

    def _pause(self, messages: list[dict[str, Any]]) -> AgentResult:
        """One confirmation for every waiting call of this step, holding the whole loop."""
        calls, self._waiting = self._waiting, []
        self.result.pending = PendingConfirmation(
            id=secrets.token_hex(4),
            user_id=self.user_id,
            expires_at=time.time() + self.limits.confirm_ttl_seconds,
            calls=calls,
            messages=messages,
            request=self._request,
            steps=self.result.steps,
            tokens=self.budget.used,
            offered=list(self.offered),
            tools_used=list(self.result.tools_used),
            failures=list(self.result.failures),
            done=dict(self.guard.done),
            preapproved=sorted(self.preapproved),
        )
        lines = [f"{i}. {c.label}" for i, c in enumerate(calls, 1)]
        what = "this action" if len(calls) == 1 else f"these {len(calls)} actions"
        self.result.text = f"I need your approval for {what}:\n" + "\n".join(lines)
        return self.result


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


__all__ = ["AgentLoop", "AgentResult", "BuiltinTool", "LLMError", "LoopLimits", "tool_schema"]
