"""The parts of a running app, and the narrow view of it that commands and built-in tools use.

Commands and built-in tools depend on `AppHost`, not on `Orchestrator`: the core registers them,
so the dependency runs one way (core -> commands -> this module).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from orchestrator.admin.budgets import TokenBudgets
from orchestrator.admin.doctor.base import TargetLister
from orchestrator.config import ChatPolicy, Config, LLMSettings
from orchestrator.context.base import ContextStore
from orchestrator.context.keeper import ConversationContext
from orchestrator.delivery.base import DeliveryStore
from orchestrator.embedding.base import Embedder
from orchestrator.identity.gate import OAuthGate
from orchestrator.llm.agent import BuiltinTool
from orchestrator.llm.base import LLM
from orchestrator.mcp.base import ToolHub
from orchestrator.mcp.names import ToolNameMap
from orchestrator.mcp.tools import ToolSpec
from orchestrator.memory.base import MemoryStore
from orchestrator.messages import ChatMessage, Reply
from orchestrator.routing.base import Router
from orchestrator.routing.directory import ToolGroups
from orchestrator.sessions.base import SessionStore
from orchestrator.sessions.model import PendingConfirmation

HubFactory = Callable[[Config], ToolHub]
LLMFactory = Callable[[LLMSettings], LLM | None]


@dataclass
class Services:
    """The real parts the core talks to, each behind its seam."""

    hub: ToolHub
    sessions: SessionStore
    llm: LLM | None = None
    embedder: Embedder | None = None
    memory: MemoryStore | None = None
    router: Router | None = None
    builtin_tools: list[BuiltinTool] = field(default_factory=list)
    hub_factory: HubFactory | None = None  # builds a hub for a reloaded config
    delivery: DeliveryStore | None = None  # idempotency keys and request records (adapters)
    llm_factory: LLMFactory | None = None  # builds the LLM for reloaded llm_settings
    budgets: TokenBudgets | None = None  # LLM tokens per chat / user per day
    context: ContextStore | None = None  # conversation context (issue 31)
    oauth: OAuthGate | None = None  # sign-ins to MCP servers behind OAuth (issue 32)


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What a reload did: `applied` False when the new file was rejected (old config kept)."""

    applied: bool
    text: str


class AppHost(Protocol):
    """What commands and built-in tools may use of the running app."""

    config: Config
    services: Services
    names: ToolNameMap
    message_tools: Callable[[ChatMessage], list[BuiltinTool]] | None
    schedule_targets: TargetLister | None  # every schedule's target chat (for the doctor)
    conversation: ConversationContext  # what the chat said around the bot (issue 31)

    def chat_policy(self, chat_key: str) -> ChatPolicy: ...

    def allowed_tools(self, chat_key: str) -> list[ToolSpec]: ...

    def tool_groups(self, chat_key: str) -> ToolGroups: ...

    async def refresh_router(self) -> None: ...

    def reload_config(self) -> Awaitable[ReloadOutcome]: ...

    def resume_plan(
        self, message: ChatMessage, plan: PendingConfirmation, *, approved: bool
    ) -> Awaitable[list[Reply]]: ...
