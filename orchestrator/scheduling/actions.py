"""What /schedule, /schedules, /unschedule, /pause, /resume do, as text.

Slash commands and the LLM's schedule tools both call these functions, so both get the same
parsing, limits, permission checks and wording.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.audit import audit
from orchestrator.messages import ChatMessage
from orchestrator.scheduling.describe import describe
from orchestrator.scheduling.engine import Scheduler, finished_one_shot
from orchestrator.scheduling.errors import ScheduleError, ScheduleNotFound
from orchestrator.scheduling.parse import parse_when, split_when_what
from orchestrator.scheduling.store import Schedule, ScheduleRun, ScheduleStore
from orchestrator.scheduling.when import When

TimezoneOf = Callable[[str], Awaitable[str]]
NO_MODEL = (
    "No language model is configured, so a schedule can only run a command, e.g. "
    '/schedule every monday at 9am /run time get_current_time {"timezone": "UTC"}. '
    "Configure a model (OPENAI_API_KEY or orchestrator.llm_settings) to schedule free text."
)


async def chat_zone(scheduler: Scheduler, timezone_of: TimezoneOf, chat_key: str) -> ZoneInfo:
    """The chat's timezone, falling back to the configured default when unset or broken."""
    name = (await timezone_of(chat_key)) or scheduler.settings.default_timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(scheduler.settings.default_timezone)


def parse_target(text: str | None) -> tuple[str, str] | None:
    """'discord:1234' -> ('discord', '1234'); None for no target."""
    if not text or not text.strip():
        return None
    platform, sep, chat_id = text.strip().partition(":")
    if not sep or not platform or not chat_id:
        raise ScheduleError(f"target {text.strip()!r} must look like platform:chat_id")
    return platform, chat_id


_TARGET = re.compile(r"\s*(?:->|→)\s*([a-z]+:\S+)\s*$")


def split_target(text: str) -> tuple[str, str | None]:
    """'daily at 9 post stats -> discord:123' -> ('daily at 9 post stats', 'discord:123')."""
    match = _TARGET.search(text)
    if match is None:
        return text, None
    return text[: match.start()], match.group(1)


async def new_schedule(
    scheduler: Scheduler,
    timezone_of: TimezoneOf,
    message: ChatMessage,
    is_admin: bool,
    *,
    text: str | None = None,
    when_text: str | None = None,
    what: str | None = None,
    target: str | None = None,
    default_target: str | None = None,
    model_ready: bool = True,
) -> Schedule:
    """Create from `/schedule <when> <what>` text, or from separate when and what (LLM tool);
    `created_text` says what was scheduled. Without a model only a command can be scheduled."""
    _check_lengths(what, target)
    tz = await chat_zone(scheduler, timezone_of, message.chat_key)
    now = scheduler.clock.now()
    when: When
    if text is not None:
        text, named = split_target(text)
        target = target or named
        when, what = split_when_what(text, tz, now)
        words = text.split()
        when_text = " ".join(words[: len(words) - len(what.split())]).strip(" ,;:-")
    else:
        when = parse_when(when_text or "", tz, now)
    if not model_ready and not (what or "").lstrip().startswith("/"):
        raise ScheduleError(NO_MODEL)
    if not target and default_target:
        target, is_admin = default_target, True  # set by an admin in the config
    schedule = await scheduler.create(
        message,
        when=when,
        when_text=when_text or "",
        what=what or "",
        is_admin=is_admin,
        target=parse_target(target),
    )
    audit("schedule_create", tool=schedule.id, detail=f"{when_text} -> {schedule.target_key}")
    return schedule


MAX_WHAT_CHARS = 4000  # a /schedule message is capped at limits.max_message_chars (4000)
MAX_TARGET_CHARS = 100


def _check_lengths(what: str | None, target: str | None) -> None:
    """The model's schedule_create fills these freely; cap them as a message is capped."""
    if what is not None and len(what) > MAX_WHAT_CHARS:
        raise ScheduleError(f"what to run is at most {MAX_WHAT_CHARS} characters.")
    if target is not None and len(str(target)) > MAX_TARGET_CHARS:
        raise ScheduleError(f"a target chat is at most {MAX_TARGET_CHARS} characters.")


def created_text(schedule: Schedule) -> str:
    where = "" if schedule.target_key == schedule.chat_key else f" in {schedule.target_key}"
    return (
        f"Scheduled {schedule.id}: {describe(schedule.when)} ({schedule.timezone}){where}: "
        f"{schedule.what}\nNext run: {_local(schedule)}. Stop it with /unschedule {schedule.id}."
    )


async def list_schedules(scheduler: Scheduler, chat_key: str) -> str:
    schedules = await scheduler.list_chat(chat_key)
    if not schedules:
        return "No schedules in this chat. Create one: /schedule every monday at 9am <what>"
    lines = [f"Schedules in this chat ({len(schedules)}/{scheduler.settings.max_per_chat}):"]
    for s in schedules:
        last = await scheduler.store.runs(s.id, 1)
        lines.append(schedule_line(s, last[0] if last else None))
    return "\n".join(lines)


def schedule_line(s: Schedule, last: ScheduleRun | None = None) -> str:
    """`id: when (tz), state[ -> target][, last run ...], by who: what` (/schedules, the CLI)."""
    state = "paused" if s.paused else f"next {_local(s)}"
    if finished_one_shot(s):
        state = "done"
    where = "" if s.target_key == s.chat_key else f" -> {s.target_key}"
    ran = f", last run {_run_line(s, last)}" if last else ""
    return (
        f"{s.id}: {describe(s.when)} ({s.timezone}), {state}{where}{ran}, "
        f"by {s.creator_name}: {_short(s.what)}"
    )


async def list_runs(store: ScheduleStore, chat_key: str | None, schedule_id: str) -> str:
    """A schedule's recent runs, newest first (`chat_key` None: any chat, for the CLI)."""
    schedule = await store.get(schedule_id.strip().lower())
    if schedule is None or (chat_key is not None and schedule.chat_key != chat_key):
        raise ScheduleNotFound(f"No schedule {schedule_id.strip()!r} in this chat. See /schedules.")
    runs = await store.runs(schedule.id)
    if not runs:
        return f"{schedule.id} has not run yet. Next run: {_local(schedule)}."
    lines = [f"Recent runs of {schedule.id} ({_short(schedule.what, 60)}), newest first:"]
    for run in runs:
        tools = f", tools: {', '.join(run.tools)}" if run.tools else ""
        lines.append(f"- {_run_line(schedule, run)}, {run.duration_ms / 1000:.1f}s{tools}")
    if schedule.paused:
        lines.append(f"{schedule.id} is paused; /resume {schedule.id} turns it back on.")
    return "\n".join(lines)


def _run_line(schedule: Schedule, run: ScheduleRun) -> str:
    local = run.started_at.astimezone(ZoneInfo(schedule.timezone))
    outcome = "ok" if run.outcome == "ok" else f"failed: {run.error}"
    if run.paused_after:
        outcome += " (paused after this)"
    return f"{local:%a %d %b %H:%M} {outcome}"


async def remove_schedule(
    scheduler: Scheduler, message: ChatMessage, is_admin: bool, schedule_id: str
) -> str:
    s = await scheduler.remove(message.chat_key, schedule_id, message.user_id, is_admin)
    audit("schedule_remove", tool=s.id)
    return f"Removed {s.id} ({describe(s.when)}: {_short(s.what)})."


async def pause_schedule(
    scheduler: Scheduler, message: ChatMessage, is_admin: bool, schedule_id: str
) -> str:
    s = await scheduler.pause(message.chat_key, schedule_id, message.user_id, is_admin)
    audit("schedule_pause", tool=s.id)
    return f"Paused {s.id}. Turn it back on with /resume {s.id}."


async def resume_schedule(
    scheduler: Scheduler, message: ChatMessage, is_admin: bool, schedule_id: str
) -> str:
    s = await scheduler.resume(message.chat_key, schedule_id, message.user_id, is_admin)
    audit("schedule_resume", tool=s.id)
    return f"Resumed {s.id}: {describe(s.when)}. Next run: {_local(s)}."


def _local(schedule: Schedule) -> str:
    if schedule.next_run_at is None:
        return "none"
    local = schedule.next_run_at.astimezone(ZoneInfo(schedule.timezone))
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
