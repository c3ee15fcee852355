"""The commands every deployment has: help, tools, run, status, confirm, cancel, reload."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from orchestrator.commands.protocol import prompt_help_lines
from orchestrator.commands.registry import CommandContext, CommandRegistry, Param, split_command
from orchestrator.commands.signin import oauth_status_lines
from orchestrator.errors import ToolError, UsageError
from orchestrator.llm.approvals import ApprovalRules
from orchestrator.mcp.extras import feature_hub
from orchestrator.mcp.tools import ToolSpec
from orchestrator.messages import Reply, ReplyKind
from orchestrator.services import AppHost
from orchestrator.sessions.model import Answered

log = logging.getLogger(__name__)

MAX_RESULT_CHARS = 3500


def register_builtin_commands(reg: CommandRegistry, app: AppHost) -> None:

    @reg.command("help", "List the commands")
    async def help_(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        lines = ["Commands:"]
        unused = unused_commands(app)
        for cmd in reg:
            if (cmd.admin_only and not ctx.is_admin) or cmd.name in unused:
                continue
            lines.append(f"{cmd.usage()} - {cmd.help}")
        lines.extend(prompt_help_lines(app, ctx.message.chat_key))
        lines.append("Anything else is a request for the assistant.")
        return [Reply("\n".join(lines))]

    @reg.command(
        "tools",
        "List the tools of the connected MCP servers",
        Param("server", "Only this server", required=False),
    )
    async def tools(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        return [Reply(tools_text(app, ctx.message.chat_key, args.get("server")))]

    @reg.command(
        "run",
        "Call one tool directly",
        Param("server", "MCP server name"),
        Param("tool", "Tool name"),
        Param("arguments", "JSON object of arguments", required=False, rest=True),
        slow=True,
    )
    async def run(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        arguments = parse_json_object(args.get("arguments") or "{}")
        return [await call_tool_reply(app, ctx, args["server"], args["tool"], arguments)]

    @reg.command("status", "Show each tool server: up/down, tools, last error, restarts")
    async def status(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        return [Reply("\n".join([status_text(app), *await oauth_status_lines(app)]))]

    @reg.command(
        "confirm",
        "Run the actions that wait for your approval, and let the plan go on",
        Param("id", "Request id"),
        slow=True,
        person_only=True,
    )
    async def confirm(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        return await resolve_pending(app, ctx, args["id"], run=True)

    @reg.command(
        "cancel",
        "Decline the actions that wait for approval",
        Param("id", "Request id"),
        person_only=True,
    )
    async def cancel(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        return await resolve_pending(app, ctx, args["id"], run=False)

    @reg.command("reload", "Re-read the config file (admins)", admin_only=True, slow=True)
    async def reload(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        outcome = await app.reload_config()
        kind = ReplyKind.ANSWER if outcome.applied else ReplyKind.ERROR  # audited as an error
        return [Reply(outcome.text, kind, ephemeral=True)]


MAX_JSON_DEPTH = 32


def _depth(raw: str) -> int:
    """Deepest bracket nesting outside strings, counted without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in raw:
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = char == "\\", char != '"'
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json_object(raw: str) -> dict[str, Any]:
    """The `/run` arguments: a JSON object nested at most MAX_JSON_DEPTH levels."""
    if _depth(raw) > MAX_JSON_DEPTH:
        raise UsageError(f"arguments are nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f'arguments must be a JSON object, e.g. {{"timezone": "UTC"}} '
            f"({exc.msg} at character {exc.pos})"
        ) from None
    except RecursionError:  # cannot happen under the depth cap; kept as the last word
        raise UsageError(
            f"arguments are nested too deeply (at most {MAX_JSON_DEPTH} levels)"
        ) from None
    if not isinstance(value, dict):
        raise UsageError('arguments must be a JSON object, e.g. {"timezone": "UTC"}')
    return value


async def call_tool_reply(
    app: AppHost, ctx: CommandContext, server: str, tool: str, arguments: dict[str, Any]
) -> Reply:
    spec = next(
        (
            t
            for t in app.allowed_tools(ctx.message.chat_key)
            if t.server == server and t.name == tool
        ),
        None,
    )
    if spec is None and not any(
        t.server == server and t.name == tool for t in app.services.hub.catalogue()
    ):
        states = {s.name: s.state for s in app.services.hub.status()}
        hint = f"/tools {server}" if server in states else "/tools"
        if states.get(server) == "needs sign-in":  # its tools are listed once someone signs in
            hint = f"/login {server}"
        return Reply(
            f"There is no tool {server}/{tool} available right now. See {hint}.", ReplyKind.ERROR
        )
    if spec is None:
        return Reply(f"{server}/{tool} is not allowed in this chat.", ReplyKind.ERROR)
    refusal = unapproved_run(app, ctx, spec)
    if refusal is not None:
        return refusal
    missing = [name for name in spec.required_params() if name not in arguments]
    if missing:
        return Reply(usage_of(spec, missing), ReplyKind.ERROR)
    try:
        result = await app.services.hub.call(server, tool, arguments)
    except ToolError as exc:
        return Reply(f"{server}/{tool} failed: {exc}", ReplyKind.ERROR)
    text = (
        result.text
        if len(result.text) <= MAX_RESULT_CHARS
        else (result.text[:MAX_RESULT_CHARS] + "\n... (truncated)")
    )
    if result.is_error:
        return Reply(f"{server}/{tool} reported an error:\n{text}", ReplyKind.ERROR)
    return Reply(f"{server}/{tool}:\n```\n{text}\n```", files=result.files)  # images, files too


def run_target(text: str) -> tuple[str, str] | None:
    """The (server, tool) a `/run server tool ...` text calls; None for any other text."""
    parsed = split_command(text)
    if parsed is None or parsed[0] != "run":
        return None
    words = parsed[1].split(maxsplit=2)
    return (words[0], words[1]) if len(words) >= 2 else None


def unapproved_run(app: AppHost, ctx: CommandContext, spec: ToolSpec) -> Reply | None:
    """A person typing `/run` of a write tool is explicit and runs it. The same text from a
    schedule (its creator's saved words, or the model's) runs a write tool only with the
    schedule's standing approval for it; otherwise it is refused, naming the approval."""
    message = ctx.message
    if message.from_person or spec.key in message.approved_tools:
        return None
    if not ApprovalRules.from_config(app.config).needs_approval(spec):
        return None
    log.warning("run_refused tool=%s origin=%s reason=not_approved", spec.key, message.origin.value)
    return Reply(
        f"{spec.key} changes things, so a scheduled /run of it needs the schedule's approval "
        f"first: /approve <schedule id> {spec.key} (its creator or an admin).",
        ReplyKind.ERROR,
    )
def usage_of(spec: ToolSpec, missing: list[str]) -> str:
    """`/run` without a required argument: name it and show a call that has it (the server's
    own validation error is a raw pydantic dump with a URL)."""
    props = spec.input_schema.get("properties") or {}
    example = {name: "..." for name in spec.required_params()}
    lines = [
        f"{spec.key} needs {', '.join(missing)}. Usage: "
        f"/run {spec.server} {spec.name} {json.dumps(example)}"
    ]
    for name in spec.required_params():
        described = str((props.get(name) or {}).get("description") or "").strip()
        if described:
            lines.append(f"  {name}: {described.splitlines()[0][:120]}")
    return "\n".join(lines)


def tools_text(app: AppHost, chat_key: str, only: str | None = None) -> str:
    allowed = app.allowed_tools(chat_key)
    lines = []
    for status in app.services.hub.status():
        if only and status.name != only:
            continue
        state = status.state if status.state != "down" else f"down: {status.last_error}"
        lines.append(f"{status.name} ({state})")
        for tool in (t for t in allowed if t.server == status.name):
            first = (tool.description or "").strip().split("\n")[0][:100]
            lines.append(f"  - {tool.name}: {first}")
    if not lines:
        return f"No server named {only}." if only else "No tool servers are configured."
    return "\n".join(lines)


def status_text(app: AppHost) -> str:
    lines = ["Servers:"]
    for s in app.services.hub.status():
        error = f", last error: {s.last_error}" if s.last_error else ""
        lines.append(f"- {s.name}: {s.state}, {s.tool_count} tools, {s.restarts} restarts{error}")
    llm = app.config.orchestrator.llm_settings
    state = "configured" if app.services.llm else "not configured"
    lines.append(f"LLM: {llm.model} via {llm.provider} ({state})")
    lines.append(
        f"Sessions: {app.config.sessions.backend}; memory: {'on' if app.services.memory else 'off'}"
    )
    return "\n".join(lines)


def not_waiting_text(answered: Answered | None, now: float) -> str:
    """Why a press finds no plan waiting: answered before (a second press, or one resumed after
    a crash: an approved run is never started twice, so say what to check), or expired."""
    if answered is None or answered.until < now:
        return "That request has expired or was already answered."
    at = time.strftime("%H:%M UTC", time.gmtime(answered.at))
    if not answered.run:
        return f"That request was already answered: Cancel at {at}."
    return (
        f"That request was already answered: Run all at {at}. It does not run again; if no "
        "result followed, a restart cut it off, so check what it did before asking again."
    )


async def resolve_pending(app: AppHost, ctx: CommandContext, pid: str, *, run: bool) -> list[Reply]:
    sessions, key = app.services.sessions, ctx.message.conversation_key
    async with sessions.lock(key):
        session = await sessions.load(key)
        pending = session.pending.get(pid)
        now = time.time()
        if pending is None or pending.expires_at < now:
            session.pending.pop(pid, None)
            await sessions.save(key, session)
            return [Reply(not_waiting_text(session.answered.get(pid), now), ReplyKind.ERROR)]
        if pending.user_id != ctx.message.user_id and not ctx.is_admin:
            return [
                Reply(
                    "Only the person who asked (or an admin) can answer this.",
                    ReplyKind.ERROR,
                    ephemeral=True,
                )
            ]
        del session.pending[pid]
        session.mark_answered(pending, run, now)
        await sessions.save(key, session)
    head = "Running" if run else "Cancelled"
    notice = Reply(f"{head}: " + "; ".join(c.label for c in pending.calls), ReplyKind.NOTICE)
    return [notice, *await app.resume_plan(ctx.message, pending, approved=run)]


def unused_commands(app: AppHost) -> set[str]:
    """Commands /help leaves out because nothing connected uses them: sign-ins without an OAuth
    server, /prompt and /resources without a server offering any (they still answer if sent)."""
    unused: set[str] = set()
    if not any(s.auth is not None for s in app.config.mcp_servers.values()):
        unused |= {"login", "logout", "logins"}
    hub = feature_hub(app.services.hub)
    if hub is None or not hub.prompts():
        unused.add("prompt")
    if hub is None or not hub.resources():
        unused.add("resources")
    return unused
