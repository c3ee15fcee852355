"""Commands and hooks for the MCP features beyond tools (issue 32): `/prompt`, `/resources`,
`/answer` (elicitation), and the hub's hooks that answer a server's elicitation and sampling.

Prompts and resources follow the chat's allow-list as tools do: `server/<prompt>` and
`server/<uri>` are matched by `tools:` and `deny:` patterns (`tools: [notes]` allows all of
server notes's tools, prompts and resources).
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from orchestrator.commands.registry import CommandContext, CommandRegistry, Param
from orchestrator.errors import ToolError, UsageError
from orchestrator.llm.sampling import Sampler
from orchestrator.mcp.extras import (
    FeatureHub,
    PromptSpec,
    ResourceSpec,
    as_tool,
    feature_hub,
)
from orchestrator.mcp.questions import Questions
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.policy import tool_allowed
from orchestrator.services import AppHost

log = logging.getLogger(__name__)


class FeatureHost(AppHost, Protocol):
    """What these commands need of the running app beyond `AppHost`."""

    def post(
        self, platform: str, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> Awaitable[bool]: ...

    def post_private(
        self, platform: str, user_id: str, replies: Sequence[Reply]
    ) -> Awaitable[bool]: ...

    def converse(self, message: ChatMessage) -> Awaitable[list[Reply]]: ...


def allowed_prompts(app: AppHost, chat_key: str) -> list[PromptSpec]:
    hub = feature_hub(app.services.hub)
    if hub is None:
        return []
    policy = app.chat_policy(chat_key)
    return [p for p in hub.prompts() if tool_allowed(policy, as_tool(p.server, p.name))]


def allowed_resources(app: AppHost, chat_key: str) -> list[ResourceSpec]:
    hub = feature_hub(app.services.hub)
    if hub is None:
        return []
    policy = app.chat_policy(chat_key)
    return [r for r in hub.resources() if tool_allowed(policy, as_tool(r.server, r.uri))]


def prompt_help_lines(app: AppHost, chat_key: str) -> list[str]:
    """The /help section: the prompts this chat may use, one line each."""
    prompts = allowed_prompts(app, chat_key)
    if not prompts:
        return []
    lines = ["Prompts (from the tool servers):"]
    for p in prompts:
        about = p.description.strip().splitlines()[0][:100] if p.description.strip() else ""
        lines.append(f"{p.usage()}" + (f" - {about}" if about else ""))
    return lines


def prompt_arguments(raw: str, spec: PromptSpec) -> dict[str, str]:
    """`key=value` words (shell quoting for spaces) bound to the prompt's arguments."""
    try:
        words = shlex.split(raw)
    except ValueError as exc:
        raise UsageError(f"cannot read the arguments ({exc}). Usage: {spec.usage()}") from None
    known = {a.name for a in spec.arguments}
    values: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key not in known:
            raise UsageError(f"unknown argument {word[:40]!r}. Usage: {spec.usage()}")
        values[key] = value
    missing = [a.name for a in spec.arguments if a.required and a.name not in values]
    if missing:
        raise UsageError(f"{spec.key} needs {', '.join(missing)}. Usage: {spec.usage()}")
    return values


def prompt_request(messages: list[dict[str, Any]]) -> str:
    """A prompt's messages as one request to the model (the user's words, in order)."""
    parts = []
    for m in messages:
        text = str(m.get("content") or "").strip()
        if text:
            parts.append(text if m.get("role") == "user" else f"({m.get('role')}) {text}")
    return "\n\n".join(parts)


def register_protocol_commands(reg: CommandRegistry, app: FeatureHost) -> Questions | None:
    """Declare the commands and answer the hub's servers; the Questions waiting, or None when
    the hub has no prompts/resources/elicitation (a test's hub)."""
    hub = feature_hub(app.services.hub)

    async def post(message: ChatMessage, replies: Sequence[Reply], private: bool) -> bool:
        if private and not message.is_private:
            return await app.post_private(message.platform, message.user_id, replies)
        return await app.post(message.platform, message.chat_id, replies, message.thread_id)

    def timeout_for(server: str) -> float:
        settings = app.config.mcp_servers.get(server)
        return settings.elicitation_timeout_seconds if settings else 300.0

    questions = Questions(post, timeout_for, app.services.sessions)  # who: for every process
    if hub is not None:
        install_hooks(app, hub, questions)

    @reg.command(
        "prompt",
        "Use a tool server's prompt as your request",
        Param("server", "MCP server name"),
        Param("name", "Prompt name"),
        Param("arguments", "key=value ...", required=False, rest=True),
        slow=True,
    )
    async def prompt(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        hub = feature_hub(app.services.hub)
        server, name = args["server"], args["name"]
        spec = next(
            (
                p
                for p in allowed_prompts(app, ctx.message.chat_key)
                if (p.server, p.name) == (server, name)
            ),
            None,
        )
        if hub is None or spec is None:
            return [Reply(f"There is no prompt {server}/{name} here. See /help.", ReplyKind.ERROR)]
        values = prompt_arguments(args.get("arguments") or "", spec)
        try:
            messages = await hub.get_prompt(server, name, values)
        except ToolError as exc:
            return [Reply(f"{spec.key} failed: {exc}", ReplyKind.ERROR)]
        except Exception as exc:  # noqa: BLE001 - the server's error, told to the person
            log.warning("prompt_failed prompt=%s error=%s", spec.key, type(exc).__name__)
            return [Reply(f"{spec.key} failed: {str(exc)[:200]}", ReplyKind.ERROR)]
        request = prompt_request(messages)
        if not request:
            return [Reply(f"{spec.key} returned no text to send.", ReplyKind.ERROR)]
        log.info("prompt_used prompt=%s messages=%d", spec.key, len(messages))
        return await app.converse(replace(ctx.message, text=request))

    @reg.command(
        "resources",
        "List the resources of the connected MCP servers",
        Param("server", "Only this server", required=False),
    )
    async def resources(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        only = args.get("server")
        found = [
            r
            for r in allowed_resources(app, ctx.message.chat_key)
            if only is None or r.server == only
        ]
        if not found:
            return [Reply("No resources here." if only is None else f"No resources on {only}.")]
        lines: list[str] = []
        for r in found:
            if f"{r.server}:" not in lines:
                lines.append(f"{r.server}:")
            about = ((r.description or r.name).strip().splitlines() or [""])[0][:100]
            kind = " (template)" if r.template else ""
            lines.append(f"  - {r.uri}{kind}" + (f": {about}" if about else ""))
        return [Reply("\n".join(lines))]

    @reg.command(
        "answer",
        "Answer a tool server's question",
        Param("id", "Question id"),
        Param("value", "Your answer", required=False, rest=True),
        person_only=True,
    )
    async def answer(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        return questions.answer(ctx.message, args["id"], args.get("value") or "")

    return questions


def install_hooks(app: FeatureHost, hub: FeatureHub, questions: Questions) -> None:
    hub.hooks.elicit = questions.ask
    hub.hooks.sample = Sampler(
        lambda: app.services.llm, lambda: app.config, lambda: app.services.budgets
    )
