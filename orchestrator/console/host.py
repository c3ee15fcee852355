"""What the console needs of the running app: the core's config and parts, its scheduler,
and the few entry points the actions go through (a command, a post, a reload)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Protocol

from orchestrator.admin.chat_rules import ChatToolRules
from orchestrator.admin.doctor.base import TargetLister
from orchestrator.commands.registry import CommandRegistry
from orchestrator.config import Config
from orchestrator.messages import ChatAdapter, ChatMessage, Reply
from orchestrator.scheduling.base import SchedulerLoop
from orchestrator.services import ReloadOutcome, Services


class ConsoleHost(Protocol):
    config: Config
    services: Services
    commands: CommandRegistry
    scheduler: SchedulerLoop | None
    adapters: dict[str, ChatAdapter]
    schedule_targets: TargetLister | None
    chat_rules: ChatToolRules

    async def handle(self, message: ChatMessage, *, admitted: bool = False) -> list[Reply]: ...

    async def post(
        self, platform: str, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> bool: ...

    def reload_config(self) -> Awaitable[ReloadOutcome]: ...
