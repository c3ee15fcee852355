"""Slash commands for scheduled workflows, declared once on the command registry."""

from __future__ import annotations

import difflib
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.commands.registry import CommandContext, CommandRegistry, Param
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.scheduling import actions
from orchestrator.scheduling.approvals import approval_offer, approve_tools
from orchestrator.scheduling.engine import Scheduler
from orchestrator.scheduling.errors import ScheduleError
from orchestrator.scheduling.llm_tools import SignInsFor

SCHEDULE_HELP = (
    "run something on a schedule: /schedule every monday at 9am check the weather "
    "(also: daily at 8, every 2 hours, tomorrow at 9, in 20 minutes, 0 9 * * MON); "
    "end with -> platform:chat_id to post elsewhere (admins)"
)


def register_schedule_commands(
    registry: CommandRegistry,
    scheduler: Scheduler,
    timezone_of: Callable[[str], Awaitable[str]],
    set_timezone: Callable[[str, str], Awaitable[None]],
    default_target: Callable[[str], str | None] = lambda chat_key: None,
    write_tools_for: Callable[[ChatMessage], Awaitable[list[str]]] | None = None,
    model_ready: Callable[[], bool] = lambda: True,
    sign_ins_for: SignInsFor | None = None,
) -> None:
    """Declare /schedule, /schedules, /unschedule, /pause, /resume, /approve and /timezone.

    `default_target(chat_key)` names where a chat's schedules post when the text names no
    target (config: `chats.<chat>.schedule_target`); `write_tools_for(message)` the write tools
    a request is likely to use, offered for standing approval at creation; `model_ready()`
    whether free text can run (without a model only a command can be scheduled);
    `sign_ins_for(message)` asks the creator's sign-ins its runs need, a line for each."""

    def refused(exc: ScheduleError) -> list[Reply]:
        return [Reply(str(exc), ReplyKind.ERROR)]

    @registry.command(
        "schedule",
        SCHEDULE_HELP,
        Param("when_what", "when, then what to do (e.g. every monday at 9am check X)", rest=True),
    )
    async def schedule(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        try:
            created = await actions.new_schedule(
                scheduler,
                timezone_of,
                ctx.message,
                ctx.is_admin,
                text=args["when_what"],
                default_target=default_target(ctx.message.chat_key),
                model_ready=model_ready(),
            )
        except ScheduleError as exc:
            return refused(exc)
        text = actions.created_text(created)
        if sign_ins_for is not None:
            text = "\n".join([text, *await sign_ins_for(replace(ctx.message, text=created.what))])
        replies = [Reply(text)]
        if write_tools_for is not None:
            likely = await write_tools_for(replace(ctx.message, text=created.what))
            offer = approval_offer(created, likely)
            replies += [offer] if offer is not None else []
        return replies

    @registry.command(
        "approve",
        "approve write tools for every run of a schedule (its creator or an admin)",
        Param("id", "schedule id (see /schedules)"),
        Param("tools", "server/tool names, comma-separated", rest=True),
        person_only=True,
    )
    async def approve(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        try:
            text = await approve_tools(
                scheduler, ctx.message, ctx.is_admin, args["id"], args["tools"]
            )
        except ScheduleError as exc:
            return refused(exc)
        return [Reply(text)]

    @registry.command("schedules", "list this chat's schedules")
    async def schedules(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        return [Reply(await actions.list_schedules(scheduler, ctx.message.chat_key))]

    @registry.command("runs", "show a schedule's recent runs", Param("id", "schedule id"))
    async def runs(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        try:
            text = await actions.list_runs(scheduler.store, ctx.message.chat_key, args["id"])
        except ScheduleError as exc:
            return refused(exc)
        return [Reply(text)]

    def by_id(name: str, help_text: str, action: Callable[..., Awaitable[str]]) -> None:
        @registry.command(name, help_text, Param("id", "schedule id (see /schedules)"))
        async def handler(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
            try:
                text = await action(scheduler, ctx.message, ctx.is_admin, args["id"])
            except ScheduleError as exc:
                return refused(exc)
            return [Reply(text)]

    by_id("unschedule", "delete a schedule", actions.remove_schedule)
    by_id("pause", "pause a schedule", actions.pause_schedule)
    by_id("resume", "resume a paused schedule", actions.resume_schedule)

    @registry.command(
        "timezone",
        "show or set this chat's timezone for new schedules (IANA name, e.g. Europe/London)",
        Param("zone", "IANA timezone name", required=False),
    )
    async def timezone(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        chat_key = ctx.message.chat_key
        name = args.get("zone")
        if not name:
            zone = await actions.chat_zone(scheduler, timezone_of, chat_key)
            return [Reply(f"This chat's timezone is {zone.key} (now {_clock(scheduler, zone)}).")]
        zone_name = _canonical_zone(name)
        if zone_name is None:
            hint = _zone_suggestions(name)
            return [Reply(f"Unknown timezone {name!r}.{hint}", ReplyKind.ERROR)]
        await set_timezone(chat_key, zone_name)
        zone = ZoneInfo(zone_name)
        return [
            Reply(
                f"This chat's timezone is now {zone_name} (now {_clock(scheduler, zone)}). "
                "New schedules use it; existing ones keep theirs."
            )
        ]


def _clock(scheduler: Scheduler, zone: ZoneInfo) -> str:
    now: datetime = scheduler.clock.now().astimezone(zone)
    return f"{now:%H:%M} {now.tzname()}"


def _canonical_zone(name: str) -> str | None:
    name = name.strip()
    available = zoneinfo.available_timezones()
    if name in available:
        return name
    folded = {z.lower(): z for z in available}
    return folded.get(name.lower())


def _zone_suggestions(name: str) -> str:
    available = sorted(zoneinfo.available_timezones())
    close = difflib.get_close_matches(name, available, n=3, cutoff=0.6)
    if not close:
        tail = name.strip().lower().replace(" ", "_")
        close = [z for z in available if z.lower().endswith("/" + tail)][:3]
    if close:
        return " Did you mean " + " or ".join(close) + "?"
    return " Use an IANA name such as Europe/London, America/New_York or Asia/Tokyo."
