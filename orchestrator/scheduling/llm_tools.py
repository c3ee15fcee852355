"""Schedule tools for the LLM: the same actions, limits and permissions as the slash commands."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from orchestrator.messages import ChatMessage
from orchestrator.scheduling import actions
from orchestrator.scheduling.engine import Scheduler
from orchestrator.scheduling.errors import ScheduleError
from orchestrator.scheduling.parse import EXAMPLES

log = logging.getLogger(__name__)

TOOL_NAMES = ("schedule_create", "schedule_list", "schedule_delete")


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
            "Create a recurring or one-time scheduled task in this chat. At each run the `what` "
            "text is executed as if the requesting user had sent it, and the result is posted "
            "to the chat. Use when the user asks for something to happen regularly or later.",
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


async def run_schedule_tool(
    name: str,
    arguments: dict[str, Any],
    message: ChatMessage,
    is_admin: bool,
    scheduler: Scheduler,
    timezone_of: Callable[[str], Awaitable[str]],
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
            return actions.created_text(schedule)
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
