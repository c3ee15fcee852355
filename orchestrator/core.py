"""The shared core: `Orchestrator.handle(message) -> list[Reply]` for every platform.

One message: policy -> slash command, or -> session -> embed once -> memory -> route tools ->
agent loop -> store. One person's messages in a chat run in arrival order; other people and other
chats run in parallel, and nothing chat-wide is held across an LLM call: the turns are appended
atomically when the request completes. Adapters never see more than `handle` and `commands`.

This module is the data flow; its collaborators hold the rest: `recollection` (embed, recall,
remember), `toolset` (a chat's tools, routing), `plans` (the agent loop, paused plans),
`results` (turns and replies), `posting` (adapters, redaction), `lifecycle` (start and stop).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from orchestrator import lifecycle, metrics, plans, presses, tracing
from orchestrator.admin.budgets import Meter, metering
from orchestrator.admin.chat_rules import ChatToolRules
from orchestrator.admin.doctor.base import TargetLister
from orchestrator.audit import audit, bind_requester
from orchestrator.commands.admin import register_admin_commands
from orchestrator.commands.builtin import register_builtin_commands
from orchestrator.commands.memory import register_memory_commands
from orchestrator.commands.model_tools import builtin_tools
from orchestrator.commands.protocol import register_protocol_commands
from orchestrator.commands.registry import (
    CommandContext,
    CommandRegistry,
    parse_args,
    split_command,
)
from orchestrator.commands.signin import register_signin_commands
from orchestrator.config import ChatPolicy, Config
from orchestrator.context.base import ContextLine
from orchestrator.context.keeper import ConversationContext
from orchestrator.delivery.ordering import KeyedSequencer
from orchestrator.errors import LLMError, UsageError
from orchestrator.llm.agent import AgentResult, BuiltinTool
from orchestrator.llm.prompt import build_messages
from orchestrator.mcp.extras import RequestScope, bind_scope
from orchestrator.mcp.names import ToolNameMap
from orchestrator.mcp.questions import is_answer
from orchestrator.mcp.tools import ToolSpec
from orchestrator.media.prompt import documents, leading_notes, turn_text, user_content
from orchestrator.memory.base import Memory
from orchestrator.messages import ChatAdapter, ChatMessage, Reply, ReplyKind
from orchestrator.policy import UserRateLimits, is_admin, rate_refusal, tool_allowed
from orchestrator.posting import Poster, in_conversation
from orchestrator.queue.base import JobQueue
from orchestrator.recollection import embed, recall, remember
from orchestrator.reload import reload_config
from orchestrator.results import record, result_replies
from orchestrator.routing.directory import ToolGroups
from orchestrator.routing.suggest import suggestion_text
from orchestrator.scheduling.base import SchedulerLoop
from orchestrator.services import ReloadOutcome, Services
from orchestrator.sessions.model import PendingConfirmation, Session
from orchestrator.toolset import ChatTools

log = logging.getLogger(__name__)

# Commands whose use is audited though anyone may send them: approvals of waiting tool calls.
AUDITED_COMMANDS = {"confirm": "approval", "cancel": "approval"}
FAILED = "Something went wrong on my side; the error is logged. Please try again."

NO_LLM_TEXT = (
    "No language model is configured, so I can only run commands. Set `OPENAI_API_KEY` "
    "(and optionally `OPENAI_BASE_URL` / `LLM_MODEL` for Ollama, vLLM ...) or fill in "
    "`orchestrator.llm_settings` in the config, then restart. Meanwhile: /tools lists the tools "
    "and /run <server> <tool> {json} calls one."
)

NO_LLM_SCHEDULE_TEXT = (
    "no language model is configured, so this free-text schedule cannot run; configure one, "
    "or schedule a command (e.g. /run time get_current_time {})"
)


class Orchestrator:
    """The running core. Its last section delegates to the collaborators: the names commands,
    schedules and adapters call (`services.AppHost` and the hosts beside it)."""

    def __init__(self, config: Config, services: Services) -> None:
        self.config = config
        self.services = services
        self.commands = CommandRegistry()
        self.names = ToolNameMap()
        self.rate_limits = UserRateLimits(config.limits.messages_per_minute_per_user)
        self.scheduler: SchedulerLoop | None = None
        self.message_tools: Callable[[ChatMessage], list[BuiltinTool]] | None = None
        self._background: list[asyncio.Task[None]] = []
        self._order = KeyedSequencer()  # per person and chat: see `handle`
        self.schedule_targets: TargetLister | None = None
        self.chat_rules = ChatToolRules(services.sessions)
        self.toolset = ChatTools(lambda: self.config, services, self.names, self.chat_rules)
        self.poster = Poster(lambda: self.config)
        self.adapters: dict[str, ChatAdapter] = self.poster.adapters
        self.queue: JobQueue | None = None  # set in a front end: messages go to workers
        self.conversation = ConversationContext(lambda: self.config, services.context)
        # What else this process runs beside the core (its web server): started last, stopped first.
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        self.web: Any = None  # its HTTP server when `http:` is set (orchestrator.web.routes)
        register_builtin_commands(self.commands, self)
        register_memory_commands(self.commands, self)
        register_admin_commands(self.commands, self, self.chat_rules)
        register_signin_commands(self.commands, self)
        self.questions = register_protocol_commands(self.commands, self)  # prompts ... (issue 32)

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        await lifecycle.start(self, self._background)

    async def stop(self) -> None:
        await lifecycle.stop(self, self._background)

    async def reload_config(self) -> ReloadOutcome:
        """Re-read the config file (the `/reload` command)."""
        return await reload_config(self)

    # -- entry point --------------------------------------------------------------------------
    async def hand_off(self, message: ChatMessage) -> bool:
        """A front end queues the message for a worker (True); otherwise False, and the
        adapter answers it with `handle` in this process."""
        if self.queue is None:
            return False
        await self.queue.enqueue_message(message)
        return True

    async def observe(self, message: ChatMessage) -> bool:
        """Keep a group message not addressed to the bot as conversation context (the adapters
        call this instead of `handle`); True when kept. Never raises."""
        return await self.conversation.observe(self.in_conversation(message))

    async def observe_edit(self, message: ChatMessage) -> bool:
        """An edited message: if it was kept as conversation context, the kept text becomes
        the edited one (True). Nothing is answered or run again. Never raises."""
        return await self.conversation.revise(self.in_conversation(message))

    async def admit(self, message: ChatMessage) -> list[Reply] | None:
        """Count a person's message against their rate as it arrives, before it waits behind
        their earlier ones: None to go on, else what to answer instead (one notice a burst,
        then nothing). Adapters that queue a person's messages call this before queueing, then
        `handle(message, admitted=True)`; otherwise `handle` calls it."""
        return await rate_refusal(
            self.rate_limits, self.config.policy_for(message.chat_key), message
        )

    async def refuses_press(self, message: ChatMessage) -> bool:
        """Whether answering a button press will refuse its presser (`orchestrator.presses`):
        the adapters then leave the buttons in place."""
        message = self.in_conversation(message)
        questions = self.questions
        return await presses.refuses_press(self.config, self.services.sessions, questions, message)

    async def handle(self, message: ChatMessage, *, admitted: bool = False) -> list[Reply]:
        """Answer one message; never raises, whatever the message or the parts do.
        `admitted`: the adapter already counted it with `admit`."""
        started = time.monotonic()
        message = self.in_conversation(message)
        bind_requester(message.platform, message.chat_id, message.user_id)
        outcome = "ok"
        key = message.chat_key
        bind_scope(RequestScope(message, lambda spec: tool_allowed(self.chat_policy(key), spec)))
        with tracing.span("message", platform=message.platform) as traced:
            try:
                refusal = None if admitted else await self.admit(message)
                if refusal is not None:
                    traced.set(outcome="refused")
                    metrics.message_handled(message.platform, "refused", time.monotonic() - started)
                    return [self.poster.clean(r) for r in refusal]
                if is_answer(message.text):  # the asker's own request waits on this answer
                    replies = await self._handle(message)
                else:
                    async with self._order.turn(f"{message.conversation_key}:{message.user_id}"):
                        replies = await self._handle(message)
            except Exception:  # noqa: BLE001 - the bot must survive any single message
                outcome = "error"
                log.exception(
                    "handle_failed platform=%s chat=%s", message.platform, message.chat_id
                )
                replies = [Reply(FAILED, ReplyKind.ERROR)]
            traced.set(outcome=outcome, replies=len(replies))
        log.info(
            "handled platform=%s chat=%s ms=%d replies=%d",
            message.platform,
            message.chat_id,
            (time.monotonic() - started) * 1000,
            len(replies),
        )
        metrics.message_handled(message.platform, outcome, time.monotonic() - started)
        return [self.poster.clean(r) for r in replies]

    async def _handle(self, message: ChatMessage) -> list[Reply]:
        policy = self.config.policy_for(message.chat_key)
        if not policy.allowed:
            return []
        if not message.text.strip() and not message.attachments:
            return []
        if len(message.text) > self.config.limits.max_message_chars:
            return [
                Reply(
                    f"That message is too long (limit "
                    f"{self.config.limits.max_message_chars} characters).",
                    ReplyKind.ERROR,
                )
            ]
        await self.chat_rules.refresh(message.chat_key)
        notes = leading_notes(message, self.config.orchestrator.llm_settings.accepts_images)
        parsed = split_command(message.text)
        if parsed is not None:
            return notes + await self.run_command(message, *parsed)
        if notes and not message.text.strip() and not documents(message):
            return notes  # only photos the model cannot see: the note says so
        return notes + await self.converse(message)

    async def run_command(self, message: ChatMessage, name: str, raw: str) -> list[Reply]:
        command = self.commands.get(name)
        if command is None:
            return [Reply(f"Unknown command /{name}. Send /help for the list.", ReplyKind.ERROR)]
        # A schedule's text (which the model may have written) acts with no admin rights and
        # answers no question meant for a person: only its standing approvals go with it.
        admin = is_admin(self.config, message) and message.from_person
        if command.person_only and not message.from_person:
            log.warning("command_refused name=%s origin=%s", name, message.origin.value)
            return [
                Reply(f"/{name} needs a person: a scheduled run cannot use it.", ReplyKind.ERROR)
            ]
        if command.admin_only and not admin:
            return [Reply(f"/{name} is for admins only.", ReplyKind.ERROR, ephemeral=True)]
        try:
            args = parse_args(command, raw)
            replies = await command.handler(CommandContext(message, admin), args)
        except UsageError as exc:
            replies = [Reply(str(exc), ReplyKind.ERROR)]
        if command.admin_only or name in AUDITED_COMMANDS:
            failed = any(r.kind is ReplyKind.ERROR for r in replies)
            audit(
                AUDITED_COMMANDS.get(name, "admin_command"),
                tool=f"/{name}",
                outcome="error" if failed else "ok",
                detail=f"/{name} {raw}"[:100],
            )
        return replies

    # -- free text ----------------------------------------------------------------------------
    async def converse(self, message: ChatMessage) -> list[Reply]:
        if self.services.llm is None:
            return await self.no_llm_replies(message)
        # The embedding runs in a worker thread while Redis answers the budget and session reads.
        embedding = asyncio.ensure_future(embed(self.services, message.text or turn_text(message)))
        try:
            refusal, session, context = await asyncio.gather(
                self._budget_refusal(message),
                self.services.sessions.load(message.conversation_key),
                self.conversation.recent(message),
            )
            embedded = await embedding
        finally:
            embedding.cancel()
        if refusal:
            return [Reply(refusal, ReplyKind.ERROR)]
        k = self.config.orchestrator.memory_system.recall_k
        memories = await recall(self.services.memory, message.conversation_key, embedded, k)
        tools = await self.toolset.select_tools(message, embedded, memories)
        try:
            with metering() as meter:
                result = await self._run_agent(message, session, memories, tools, context)
        except LLMError as exc:
            return [Reply(f"{exc} (/run still works without the model.)", ReplyKind.ERROR)]
        await asyncio.gather(
            self.services.sessions.update(
                message.conversation_key, lambda fresh: record(self.config, fresh, message, result)
            ),
            self._charge(message, meter),
        )
        await remember(self.services.memory, message, result, embedded)  # written after the reply
        return result_replies(message, result)

    async def _budget_refusal(self, message: ChatMessage) -> str | None:
        budgets = self.services.budgets
        if budgets is None:
            return None
        refusal = await budgets.refusal(
            self.config.limits, message.platform, message.chat_id, message.user_id
        )
        if refusal:
            metrics.budget_refused(message.platform)
        return refusal

    async def _charge(self, message: ChatMessage, meter: Meter) -> None:
        if self.services.budgets is not None:
            await self.services.budgets.charge(
                message.platform, message.chat_id, message.user_id, meter.tokens, meter.by_model
            )

    async def _run_agent(
        self,
        message: ChatMessage,
        session: Session,
        memories: Sequence[Memory],
        tools: Sequence[ToolSpec],
        context: Sequence[ContextLine] = (),
    ) -> AgentResult:
        loop = plans.agent_loop(self.config, self.services, self.names, message)
        loop.offer(tools, builtin_tools(self, message, tools))
        messages = build_messages(
            message,
            session,
            memories,
            name=self.config.orchestrator.name,
            extra_system=self.config.orchestrator.system_prompt,
            context=context,
        )
        if message.attachments:  # files and voice (issue 31)
            llm = self.config.orchestrator.llm_settings
            messages[-1]["content"] = user_content(
                message,
                messages[-1]["content"],
                budget=self.config.files.document_tokens,
                see_images=llm.accepts_images,
            )
        return await loop.run(messages, request=message.text)

    async def no_llm_replies(self, message: ChatMessage) -> list[Reply]:
        """Without an LLM, free text still gets the best matching tools as ready /run lines;
        a scheduled run of free text fails (its history says why, and repeats pause it)."""
        if (message.message_id or "").startswith("schedule:"):
            return [Reply(NO_LLM_SCHEDULE_TEXT, ReplyKind.ERROR)]
        embedded = await embed(self.services, message.text)
        tools = await self.toolset.select_tools(message, embedded) if embedded is not None else []
        return [Reply(suggestion_text(NO_LLM_TEXT, tools[:5]))]

    # -- for adapters, commands and schedules ----------------------------------------------
    def attach(self, adapter: ChatAdapter) -> None:
        """Register a running platform backend so scheduled runs can post into its chats."""
        self.adapters[adapter.platform] = adapter

    async def post(
        self, platform: str, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> bool:
        return await self.poster.post(platform, chat_id, replies, thread_id)

    async def post_private(self, platform: str, user_id: str, replies: Sequence[Reply]) -> bool:
        return await self.poster.post_private(platform, user_id, replies)

    def redact(self, text: str) -> str:
        return self.poster.redact(text)

    def in_conversation(self, message: ChatMessage) -> ChatMessage:
        return in_conversation(self.config, message)

    def chat_policy(self, chat_key: str) -> ChatPolicy:
        return self.toolset.chat_policy(chat_key)

    def allowed_tools(self, chat_key: str) -> list[ToolSpec]:
        return self.toolset.allowed_tools(chat_key)

    def tool_groups(self, chat_key: str) -> ToolGroups:
        return self.toolset.tool_groups(chat_key)

    async def refresh_router(self) -> None:
        await self.toolset.refresh_router()

    async def resume_plan(
        self, message: ChatMessage, plan: PendingConfirmation, *, approved: bool
    ) -> list[Reply]:
        return await plans.resume_plan(self, message, plan, approved=approved)

    async def likely_write_tools(self, message: ChatMessage) -> list[str]:
        return await plans.likely_write_tools(self, message)

    async def likely_servers(self, message: ChatMessage) -> list[str]:
        return await plans.likely_servers(self, message)
