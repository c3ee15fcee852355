"""Glue from the scheduler to the orchestrator: run a schedule as its creator, post the result.

Optional helpers for the app: `make_runner(handle, post)` and `make_notify(post)` match the
engine's `Runner` and `Notify`; `schedule_builtin_tools` gives the agent loop its tools.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from orchestrator.errors import OrchestratorError
from orchestrator.llm.agent import BuiltinTool
from orchestrator.messages import ChatMessage, Origin, Reply, ReplyKind
from orchestrator.scheduling.engine import Notify, Runner, Scheduler
from orchestrator.scheduling.llm_tools import (
    SignInsFor,
    WriteToolsFor,
    confirm_create,
    run_schedule_tool,
    schedule_tool_schemas,
)
from orchestrator.scheduling.store import Schedule

log = logging.getLogger(__name__)

Handle = Callable[[ChatMessage], Awaitable[list[Reply]]]
Post = Callable[..., Awaitable[bool]]  # (platform, chat_id, replies[, thread_id]) -> posted
FirstPost = Callable[[Schedule], Awaitable[bool]]


class ScheduledRunFailed(OrchestratorError):
    """The run answered with an error, or its result could not be posted."""


def as_message(schedule: Schedule) -> ChatMessage:
    """The synthetic message a run sends: the creator's words, in the chat it was made in."""
    return ChatMessage(
        platform=schedule.platform,
        chat_id=schedule.chat_id,
        user_id=schedule.creator_id,
        text=schedule.what,
        user_name=schedule.creator_name,
        message_id=f"schedule:{schedule.id}",
        approved_tools=frozenset(schedule.approved_tools),
        origin=Origin.SCHEDULE,
        thread_id=schedule.thread_id or None,
    )


async def post_to_target(post: Post, schedule: Schedule, replies: Sequence[Reply]) -> bool:
    """Post to the schedule's target: into its topic or thread when it was made in one."""
    platform, chat_id = schedule.target_platform, schedule.target_chat_id
    if schedule.thread_id:
        return await post(platform, chat_id, replies, schedule.thread_id)
    return await post(platform, chat_id, replies)


def make_runner(handle: Handle, post: Post, first_post: FirstPost | None = None) -> Runner:
    """Run `what` through `handle` (e.g. Orchestrator.handle) and post the replies to the target,
    once per slot: a run taken over from a dead process skips the post if it was made."""

    async def run(schedule: Schedule) -> None:
        replies = await handle(as_message(schedule))
        header = Reply(f"Scheduled {schedule.id}: {schedule.what}", ReplyKind.NOTICE)
        errors = [r.text for r in replies if r.kind is ReplyKind.ERROR]
        if errors:
            raise ScheduledRunFailed(errors[0][:200])
        if first_post is not None and not await first_post(schedule):
            log.info("schedule_post_skipped id=%s reason=already_posted", schedule.id)
            return
        if not await post_to_target(post, schedule, [header, *replies]):
            raise ScheduledRunFailed(f"cannot post to {schedule.target_key}")

    return run


def make_notify(post: Post) -> Notify:
    async def notify(schedule: Schedule, text: str) -> None:
        await post_to_target(post, schedule, [Reply(text, ReplyKind.ERROR)])

    return notify


def schedule_builtin_tools(
    message: ChatMessage,
    is_admin: bool,
    scheduler: Scheduler,
    timezone_of: Callable[[str], Awaitable[str]],
    write_tools_for: WriteToolsFor | None = None,
    sign_ins_for: SignInsFor | None = None,
) -> list[BuiltinTool]:
    """The schedule tools bound to one message's chat and user, for the agent loop.
    `schedule_create` waits for the asker's button, like a write tool: a schedule the model
    asked for (perhaps told to by text in a tool result) exists only once a person says so."""

    async def confirm(arguments: dict[str, Any]) -> str:
        return await confirm_create(arguments, message, scheduler, timezone_of, write_tools_for)

    def bind(schema: dict[str, Any]) -> BuiltinTool:
        name = schema["function"]["name"]

        async def run(arguments: dict[str, Any]) -> str:
            return await run_schedule_tool(
                name, arguments, message, is_admin, scheduler, timezone_of, sign_ins_for
            )

        return BuiltinTool(schema, run, confirm if name == "schedule_create" else None)

    return [bind(schema) for schema in schedule_tool_schemas()]
