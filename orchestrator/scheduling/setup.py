"""Attach a scheduler to a running orchestrator: commands, LLM tools, and its tick loop."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import Protocol

from orchestrator.admin.doctor.base import ScheduleTarget
from orchestrator.clock import Clock, SystemClock
from orchestrator.commands.registry import CommandRegistry
from orchestrator.commands.signin import ask_sign_ins, person_servers
from orchestrator.llm.agent import BuiltinTool
from orchestrator.messages import ChatMessage, Reply
from orchestrator.policy import is_admin
from orchestrator.scheduling.base import SchedulerLoop
from orchestrator.scheduling.commands import register_schedule_commands
from orchestrator.scheduling.engine import Runner, Scheduler
from orchestrator.scheduling.factory import build_scheduler
from orchestrator.scheduling.store import Schedule
from orchestrator.scheduling.wiring import make_notify, make_runner, schedule_builtin_tools
from orchestrator.services import AppHost

log = logging.getLogger(__name__)

TIMEZONE_SETTING = "timezone"


class SchedulerHost(AppHost, Protocol):
    """The core as the scheduler needs it: run a message, post replies, register commands."""

    commands: CommandRegistry
    scheduler: SchedulerLoop | None

    async def handle(self, message: ChatMessage) -> list[Reply]: ...

    def post(self, platform: str, chat_id: str, replies: Sequence[Reply]) -> Awaitable[bool]: ...

    async def likely_write_tools(self, message: ChatMessage) -> list[str]: ...

    async def likely_servers(self, message: ChatMessage) -> list[str]: ...


def attach_scheduler(
    app: SchedulerHost, clock: Clock | None = None, runner: Runner | None = None
) -> Scheduler:
    """Create the configured scheduler, declare its commands and hand it to the core.

    `runner` replaces "run it here and post" (e.g. with "queue it for a worker")."""
    config = app.config

    async def first_post(schedule: Schedule) -> bool:
        return await scheduler.first_post(schedule)  # bound below, called only while running

    scheduler = build_scheduler(
        config.scheduler,
        clock or SystemClock(),
        runner or make_runner(app.handle, app.post, first_post),
        notify=make_notify(app.post),
        redis_url=config.sessions.url,
        key_prefix=config.sessions.key_prefix,
    )
    sessions = app.services.sessions

    async def timezone_of(chat_key: str) -> str:
        return (await sessions.load(chat_key)).settings.get(TIMEZONE_SETTING, "")

    async def set_timezone(chat_key: str, tz: str) -> None:
        await sessions.update(
            chat_key, lambda session: session.settings.update({TIMEZONE_SETTING: tz})
        )

    async def sign_ins_for(message: ChatMessage) -> list[str]:
        """The creator's sign-ins its runs need (routed only when some server needs one)."""
        if not person_servers(app) or not message.from_person:
            return []
        try:
            servers = await app.likely_servers(message)
        except Exception as exc:  # noqa: BLE001 - never fails the creation
            log.warning("schedule_servers_unknown error=%s", type(exc).__name__)
            return []
        return await ask_sign_ins(app, message, servers)

    def tools_for(message: ChatMessage) -> list[BuiltinTool]:
        admin = is_admin(app.config, message) and message.from_person
        return schedule_builtin_tools(
            message, admin, scheduler, timezone_of, app.likely_write_tools, sign_ins_for
        )

    def default_target(chat_key: str) -> str | None:
        return app.config.policy_for(chat_key).schedule_target

    async def targets() -> list[ScheduleTarget]:
        return [
            ScheduleTarget(s.id, s.target_platform, s.target_chat_id)
            for s in await scheduler.store.all()
        ]

    register_schedule_commands(
        app.commands,
        scheduler,
        timezone_of,
        set_timezone,
        default_target,
        write_tools_for=app.likely_write_tools,
        model_ready=lambda: app.services.llm is not None,
        sign_ins_for=sign_ins_for,
    )
    app.schedule_targets = targets
    app.message_tools = tools_for
    app.scheduler = scheduler
    return scheduler
