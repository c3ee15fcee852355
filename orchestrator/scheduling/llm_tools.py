"""Schedule tools for the LLM: the same actions, limits and permissions as the slash commands."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from orchestrator.messages import ChatMessage
from orchestrator.scheduling import actions
from orchestrator.scheduling.describe import describe
from orchestrator.scheduling.engine import Scheduler
from orchestrator.scheduling.errors import ScheduleError
from orchestrator.scheduling.parse import EXAMPLES, parse_when

log = logging.getLogger(__name__)

TOOL_NAMES = ("schedule_create", "schedule_list", "schedule_delete")
MAX_SHOWN = 500  # characters of a schedule's text shown on its confirmation


def _tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


def schedule_tool_schemas() -> list[dict[str, Any]]:
    """OpenAI function-tool schemas for creating, listing and deleting this chat's schedules."""
    return [
        _tool(
            "schedule_create",
            "Create a recurring or one-time scheduled task in this chat. The user confirms it "
            "with a button before it exists. At each run the `what` text is executed for the "
            "requesting user (tools that change things still need their approval), and the "
            "result is posted to the chat. Use when the user asks for something to happen "
            "regularly or later.",
            {
                "when": {
                    "type": "string",
                    "description": f"When to run, in the chat's timezone. Examples: {EXAMPLES}.",
                },
                "what": {
                    "type": "string",
                    "description": "The request to run each time, as a full instruction.",
                },
                "target_chat": {
                    "type": "string",
                    "description": "Optional other chat to post into, as platform:chat_id "
                    "(admins only). Omit to post in this chat.",
                },
            },
            ["when", "what"],
        ),
        _tool("schedule_list", "List this chat's scheduled tasks with their ids.", {}, []),
        _tool(
            "schedule_delete",
            "Delete one of this chat's scheduled tasks by id (see schedule_list).",
            {"id": {"type": "string", "description": "The schedule id, e.g. k7m2q."}},
            ["id"],
        ),
    ]


WriteToolsFor = Callable[[ChatMessage], Awaitable[list[str]]]
# The creator's sign-ins a new schedule's runs need, asked for now: a line for each.
SignInsFor = Callable[[ChatMessage], Awaitable[list[str]]]


async def confirm_create(
    arguments: dict[str, Any],
    message: ChatMessage,
    scheduler: Scheduler,
    timezone_of: Callable[[str], Awaitable[str]],
    write_tools_for: WriteToolsFor | None = None,
) -> str:
    """The line the asker approves before a schedule the model asked for exists: when, what,
    and the tools that change things its runs may call. Raises ScheduleError when the when-
    phrase or the text would be refused anyway, so the model hears it at once."""
    tz = await actions.chat_zone(scheduler, timezone_of, message.chat_key)
    when = parse_when(str(arguments.get("when", "")), tz, scheduler.clock.now())
    what = str(arguments.get("what", "")).strip()
    if not what:
        raise ScheduleError("give `what` to run at each time")
    target = arguments.get("target_chat")
    where = f" posting into {target}" if target else ""
    shown = what if len(what) <= MAX_SHOWN else what[: MAX_SHOWN - 1] + "…"
    line = f'Create a schedule{where}: {describe(when)} ({tz.key}), run "{shown}"'
    writes = await write_tools_for(replace(message, text=what)) if write_tools_for else []
    if writes:
        return (
            f"{line}. Its runs may call tools that change things: {', '.join(writes)}; each run "
            "asks you before using them unless you approve them for it (/approve)"
        )
    return f"{line}. No tool that changes things is likely"


async def run_schedule_tool(
    name: str,
    arguments: dict[str, Any],
    message: ChatMessage,
    is_admin: bool,
    scheduler: Scheduler,
    timezone_of: Callable[[str], Awaitable[str]],
    sign_ins_for: SignInsFor | None = None,
) -> str:
    """Run one schedule tool for the user who sent `message`; returns text for the model."""
    log.info("schedule_tool tool=%s chat=%s", name, message.chat_key)
    try:
        if name == "schedule_create":
            schedule = await actions.new_schedule(
                scheduler,
                timezone_of,
                message,
                is_admin,
                when_text=str(arguments.get("when", "")),
                what=str(arguments.get("what", "")),
                target=arguments.get("target_chat") or None,
            )
            lines = [actions.created_text(schedule)]
            if sign_ins_for is not None:
                lines += await sign_ins_for(replace(message, text=schedule.what))
            return "\n".join(lines)
        if name == "schedule_list":
            return await actions.list_schedules(scheduler, message.chat_key)
        if name == "schedule_delete":
            schedule_id = str(arguments.get("id", "")).strip()
            if not schedule_id:
                return "error: give the `id` of the schedule to delete (see schedule_list)"
            return await actions.remove_schedule(scheduler, message, is_admin, schedule_id)
    except ScheduleError as exc:
        return f"error: {exc}"
    return f"error: unknown schedule tool {name!r}"
