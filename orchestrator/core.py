"""The shared core: `Orchestrator.handle(message) -> list[Reply]` for every platform.

One message: policy -> slash command, or -> session -> embed once -> memory -> route tools ->
agent loop -> store. One person's messages in a chat run in arrival order; other people and other
chats run in parallel, and nothing chat-wide is held across an LLM call: the turns are appended
atomically when the request completes. Adapters never see more than `handle` and `commands`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from orchestrator import metrics
from orchestrator.admin.budgets import metering
from orchestrator.admin.chat_rules import ChatToolRules
from orchestrator.admin.doctor.base import TargetLister
from orchestrator.admin.heartbeat import beat_forever
from orchestrator.audit import audit, bind_requester
from orchestrator.commands.admin import register_admin_commands
from orchestrator.commands.builtin import register_builtin_commands, run_target
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
from orchestrator.embedding.fused import first_block
from orchestrator.errors import LLMError, UsageError
from orchestrator.llm.agent import AgentLoop, AgentResult, BuiltinTool, LoopLimits
from orchestrator.llm.approvals import ApprovalRules
from orchestrator.llm.prompt import build_messages
from orchestrator.mcp.extras import RequestScope, bind_scope, named_resource_tools
from orchestrator.mcp.names import ToolNameMap
from orchestrator.mcp.questions import is_answer
from orchestrator.mcp.tools import ToolSpec
from orchestrator.media.prompt import documents, leading_notes, turn_text, user_content
from orchestrator.memory.base import Memory
from orchestrator.messages import ChatAdapter, ChatMessage, Choice, Reply, ReplyKind
from orchestrator.policy import (
    AllowedTools,
    UserRateLimits,
    is_admin,
    rate_refusal,
    tool_allowed,
)
from orchestrator.queue.base import JobQueue
from orchestrator.redact import Redactor
from orchestrator.reload import install_sighup, reload_config, remove_sighup
from orchestrator.routing.base import past_uses
from orchestrator.routing.directory import ToolGroups
from orchestrator.routing.suggest import suggestion_text
from orchestrator.scheduling.base import SchedulerLoop
from orchestrator.services import ReloadOutcome, Services
from orchestrator.sessions.model import PendingConfirmation, Session, Turn
from orchestrator.tasks import stop_if_cancelled

log = logging.getLogger(__name__)

# Commands whose use is audited though anyone may send them: approvals of waiting tool calls.
AUDITED_COMMANDS = {"confirm": "approval", "cancel": "approval"}

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


@dataclass(frozen=True, slots=True)
class Embedded:
    """A message's vector, and its steps' vectors when the router split it into steps.
    `memory`: the vector memory stores and recalls by (the first encoder's part when the
    router fuses two encoders; `vector` otherwise)."""

    vector: np.ndarray
    steps: np.ndarray | None = None
    memory: np.ndarray | None = None

    @property
    def for_memory(self) -> np.ndarray:
        return self.vector if self.memory is None else self.memory


class Orchestrator:
    def __init__(self, config: Config, services: Services) -> None:
        self.config = config
        self.services = services
        self.commands = CommandRegistry()
        self.names = ToolNameMap()
        self._allowed = AllowedTools(lambda t: self.names.safe_name(t.server, t.name))
        self._redactor = (config.secrets, Redactor(config.secrets))
        self.rate_limits = UserRateLimits(config.limits.messages_per_minute_per_user)
        self._indexed: tuple[int, frozenset[str]] | None = None
        self.adapters: dict[str, ChatAdapter] = {}
        self.scheduler: SchedulerLoop | None = None
        self.message_tools: Callable[[ChatMessage], list[BuiltinTool]] | None = None
        self._background: list[asyncio.Task[None]] = []
        self._order = KeyedSequencer()  # per person and chat: see `handle`
        self.schedule_targets: TargetLister | None = None
        self.chat_rules = ChatToolRules(services.sessions)
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

    # -- adapters (where scheduled runs post) --------------------------------------------------
    def attach(self, adapter: ChatAdapter) -> None:
        """Register a running platform backend so scheduled runs can post into its chats."""
        self.adapters[adapter.platform] = adapter

    async def post(
        self, platform: str, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> bool:
        """Post into a chat, or into one of its topics/threads (`thread_id`)."""
        adapter = self.adapters.get(platform)
        if adapter is None:
            log.warning("post_dropped platform=%s chat=%s reason=no_adapter", platform, chat_id)
            return False
        cleaned = [self._clean(r) for r in replies]
        if thread_id:
            await adapter.send(chat_id, cleaned, thread_id)
        else:
            await adapter.send(chat_id, cleaned)
        return True

    async def post_private(self, platform: str, user_id: str, replies: Sequence[Reply]) -> bool:
        """Post to a person privately; False when their platform's adapter cannot."""
        send = getattr(self.adapters.get(platform), "send_private", None)
        if send is None:
            log.warning("private_post_dropped platform=%s reason=unsupported", platform)
            return False
        return bool(await send(user_id, [self._clean(r) for r in replies]))

    def in_conversation(self, message: ChatMessage) -> ChatMessage:
        """The message with its chat's topic sharing applied (`chats.<key>.topics`)."""
        if message.thread_id is None:
            return message
        shared = self.config.policy_for(message.chat_key).topics == "shared"
        return (
            message if shared == message.thread_shared else replace(message, thread_shared=shared)
        )

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        # The encoders load and the memory store opens while the MCP servers start: ready
        # means answerable without a first-message delay.
        await asyncio.gather(self.services.hub.start(), self._warm_embedder(), self._open_memory())
        install_sighup(self)
        metrics.watch_servers(lambda: self.services.hub.status())  # the hub a reload swapped in
        for hook in self.on_start:
            await hook()
        if self.scheduler is not None and self.config.scheduler.enabled:
            self._background.append(asyncio.create_task(self.scheduler.run_forever()))
        if hasattr(self.services.memory, "prune"):
            self._background.append(asyncio.create_task(self._prune_memory_forever()))
        if self.config.health.heartbeat_path:
            beat = beat_forever(self.config.health, self._heartbeat_status)
            self._background.append(asyncio.create_task(beat))

    async def _warm_embedder(self) -> None:
        embedder = self.services.embedder
        if embedder is None:
            return
        started = time.monotonic()
        try:
            await embedder.embed(["warm up"])
        except Exception as exc:  # noqa: BLE001 - routing and memory degrade, the bot still runs
            log.warning("embedder_warm_failed error=%s", type(exc).__name__)
            return
        log.info("embedder_ready ms=%d", (time.monotonic() - started) * 1000)

    async def _open_memory(self) -> None:
        opener = getattr(self.services.memory, "open", None)
        if opener is None:
            return
        try:
            await asyncio.to_thread(opener)
        except Exception as exc:  # noqa: BLE001 - the first recall opens it again, or degrades
            log.warning("memory_open_failed error=%s", type(exc).__name__)

    def _heartbeat_status(self) -> dict[str, int]:
        statuses = self.services.hub.status()
        return {"servers": len(statuses), "servers_up": sum(s.state == "up" for s in statuses)}

    async def _prune_memory_forever(self, every_seconds: float = 3600) -> None:
        """Retention: `max_items_per_chat` and `max_age_days`, enforced hourly."""
        while True:
            try:
                await self.services.memory.prune()  # type: ignore[union-attr]
            except Exception as exc:  # noqa: BLE001 - retention must never stop the bot
                log.warning("memory_prune_failed error=%s", type(exc).__name__)
            stop_if_cancelled()
            await asyncio.sleep(every_seconds)

    async def stop(self) -> None:
        remove_sighup()
        for hook in reversed(self.on_stop):
            await hook()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.close()
        await self.services.hub.stop()
        if self.services.memory is not None:
            await self.services.memory.close()  # writes the memories still waiting
        await self.services.sessions.close()
        if self.services.budgets is not None:
            await self.services.budgets.close()
        if self.services.delivery is not None:
            await self.services.delivery.close()
        await self.conversation.close()
        if self.services.oauth is not None:
            await self.services.oauth.close()
        if self.queue is not None:
            await self.queue.close()
        llm = self.services.llm
        if llm is not None and hasattr(llm, "close"):
            await llm.close()

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

    async def handle(self, message: ChatMessage, *, admitted: bool = False) -> list[Reply]:
        """Answer one message; never raises, whatever the message or the parts do.
        `admitted`: the adapter already counted it with `admit`."""
        started = time.monotonic()
        message = self.in_conversation(message)
        bind_requester(message.platform, message.chat_id, message.user_id)
        outcome = "ok"
        key = message.chat_key
        bind_scope(RequestScope(message, lambda spec: tool_allowed(self.chat_policy(key), spec)))
        try:
            refusal = None if admitted else await self.admit(message)
            if refusal is not None:
                metrics.message_handled(message.platform, "refused", time.monotonic() - started)
                return [self._clean(r) for r in refusal]
            if is_answer(message.text):  # the asker's own request waits on this answer
                replies = await self._handle(message)
            else:
                async with self._order.turn(f"{message.conversation_key}:{message.user_id}"):
                    replies = await self._handle(message)
        except Exception:  # noqa: BLE001 - the bot must survive any single message
            outcome = "error"
            log.exception("handle_failed platform=%s chat=%s", message.platform, message.chat_id)
            replies = [
                Reply(
                    "Something went wrong on my side; the error is logged. Please try again.",
                    ReplyKind.ERROR,
                )
            ]
        log.info(
            "handled platform=%s chat=%s ms=%d replies=%d",
            message.platform,
            message.chat_id,
            (time.monotonic() - started) * 1000,
            len(replies),
        )
        metrics.message_handled(message.platform, outcome, time.monotonic() - started)
        return [self._clean(r) for r in replies]

    def redact(self, text: str) -> str:
        """Mask the running config's secrets (rebuilt when a reload changes them)."""
        secrets, redactor = self._redactor
        if secrets is not self.config.secrets:
            self._redactor = (self.config.secrets, Redactor(self.config.secrets))
            redactor = self._redactor[1]
        return redactor(text)

    def _clean(self, reply: Reply) -> Reply:
        text = self.redact(reply.text)
        return reply if text == reply.text else replace(reply, text=text)

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
        embedding = asyncio.ensure_future(self.embed(message.text or turn_text(message)))
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
        memories = await self.recall(message.conversation_key, embedded)
        tools = await self.select_tools(message, embedded, memories)
        try:
            with metering() as meter:
                result = await self._run_agent(message, session, memories, tools, context)
        except LLMError as exc:
            return [Reply(f"{exc} (/run still works without the model.)", ReplyKind.ERROR)]
        await asyncio.gather(
            self.services.sessions.update(
                message.conversation_key, lambda fresh: self._record(fresh, message, result)
            ),
            self._charge(message, meter.tokens),
        )
        await self.remember(message, result, embedded)  # queued: written after the reply
        return self._result_replies(message, result)

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

    async def _charge(self, message: ChatMessage, tokens: int) -> None:
        if self.services.budgets is not None:
            await self.services.budgets.charge(
                message.platform, message.chat_id, message.user_id, tokens
            )

    async def _run_agent(
        self,
        message: ChatMessage,
        session: Session,
        memories: Sequence[Memory],
        tools: Sequence[ToolSpec],
        context: Sequence[ContextLine] = (),
    ) -> AgentResult:
        loop = self.agent_loop(message)
        loop.offer(tools, self.builtins_for(message, tools))
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

    def agent_loop(self, message: ChatMessage) -> AgentLoop:
        """A loop for one request: this chat's allow-list and approvals, the configured limits."""
        assert self.services.llm is not None
        llm, limits = self.config.orchestrator.llm_settings, self.config.limits
        policy = self.config.policy_for(message.chat_key)
        return AgentLoop(
            self.services.llm,
            self.services.hub,
            self.names,
            rules=ApprovalRules.from_config(self.config),
            user_id=message.user_id,
            limits=LoopLimits(
                llm.max_steps,
                llm.tool_output_tokens,
                llm.request_tokens,
                limits.confirmation_ttl_seconds,
            ),
            allowed=lambda spec: tool_allowed(policy, spec),
            preapproved=message.approved_tools,
        )

    async def likely_write_tools(self, message: ChatMessage) -> list[str]:
        """The tools needing approval that this request would use: for `/run server tool` that
        tool, for another command none, for free text those it would be offered (routed now)."""
        rules = ApprovalRules.from_config(self.config)
        if split_command(message.text) is not None:
            named = run_target(message.text)  # any other command calls no tool
            tools = [t for t in self.allowed_tools(message.chat_key) if (t.server, t.name) == named]
            return [t.key for t in tools if rules.needs_approval(t)]
        embedded = await self.embed(message.text)
        tools = await self.select_tools(message, embedded)
        return [t.key for t in tools if rules.needs_approval(t)]

    async def resume_plan(
        self, message: ChatMessage, plan: PendingConfirmation, *, approved: bool
    ) -> list[Reply]:
        """Run all / Cancel pressed: continue the paused loop to its answer and summary."""
        if self.services.llm is None:
            return [Reply("No language model is configured.", ReplyKind.ERROR)]
        owner = replace(message, user_id=plan.user_id, approved_tools=frozenset(plan.preapproved))
        loop = self.agent_loop(owner)
        offered = set(plan.offered)
        tools = [
            t
            for t in self.allowed_tools(message.chat_key)
            if self.names.safe_name(t.server, t.name) in offered
        ]
        loop.offer(tools, self.builtins_for(owner, tools))  # a schedule is the asker's
        try:
            result = await loop.resume(plan, approved=approved)
        except LLMError as exc:
            return [Reply(f"{exc} (/run still works without the model.)", ReplyKind.ERROR)]
        sessions = self.services.sessions
        conversation = message.conversation_key
        async with sessions.lock(conversation):
            session = await sessions.load(conversation)
            self._record_answer(session, result)
            await sessions.save(conversation, session)
        if result.is_answer and plan.request:
            request = replace(message, text=plan.request, user_id=plan.user_id)
            await self.remember(request, result, await self.embed(plan.request))
        return self._result_replies(replace(message, user_id=plan.user_id), result)

    def builtins_for(
        self, message: ChatMessage, offered: Sequence[ToolSpec] = ()
    ) -> list[BuiltinTool]:
        """Built-in tools (the tool directory and loader, schedules) bound to this message's
        chat and user; `offered` are the tools whose full schemas the model already has."""
        return builtin_tools(self, message, offered)

    def _record(self, session: Session, message: ChatMessage, result: AgentResult) -> None:
        bounds = (self.config.sessions.max_turns, self.config.sessions.max_tokens)
        now = time.time()
        author = f"{message.user_name}: " if message.user_name else ""
        session.add_turn(Turn("user", author + turn_text(message), message.user_id, now), *bounds)
        self._record_answer(session, result)

    def _record_answer(self, session: Session, result: AgentResult) -> None:
        """Only the model's own complete answers become turns; placeholders and cut text never."""
        bounds = (self.config.sessions.max_turns, self.config.sessions.max_tokens)
        if result.is_answer:
            session.add_turn(Turn("assistant", result.text, "", time.time()), *bounds)
        if result.pending is not None:
            session.pending[result.pending.id] = result.pending

    def _result_replies(self, message: ChatMessage, result: AgentResult) -> list[Reply]:
        if result.pending is not None:
            pid = result.pending.id
            choices = (Choice("Run all", f"/confirm {pid}"), Choice("Cancel", f"/cancel {pid}"))
            # Files a tool made before the pause go with the question: the model was told they
            # were sent, and the plan (kept as JSON) holds no bytes.
            files = tuple(result.files)
            return [Reply(result.text, choices=choices, for_user_id=message.user_id, files=files)]
        files = tuple(result.files)
        return [Reply(result.text, files=files), Reply(summary_line(result), ReplyKind.SUMMARY)]

    # -- embedding, memory, routing -----------------------------------------------------------
    async def embed(self, text: str) -> Embedded | None:
        """Embed a message once (with its steps, in the same batch, when the router splits
        multi-step requests); the vectors serve memory and routing alike."""
        router, embedder = self.services.router, self.services.embedder
        if router is not None:
            vector, steps = await router.request_vectors(text)
            return Embedded(vector, steps, first_block(vector, embedder))
        if embedder is None:
            return None
        vector = (await embedder.embed([text]))[0]
        return Embedded(vector, memory=first_block(vector, embedder))

    async def recall(self, chat_key: str, embedded: Embedded | None) -> list[Memory]:
        memory, k = self.services.memory, self.config.orchestrator.memory_system.recall_k
        if memory is None or embedded is None or k == 0:
            return []
        try:
            return await memory.recall(chat_key, embedded.for_memory, k)
        except Exception as exc:  # noqa: BLE001 - memory is an aid, never a blocker
            log.warning("memory_recall_failed error=%s", type(exc).__name__)
            return []

    async def remember(
        self, message: ChatMessage, result: AgentResult, embedded: Embedded | None
    ) -> None:
        memory = self.services.memory
        if memory is None or embedded is None or not result.is_answer:
            return
        item = Memory(
            id="",
            chat_key=message.conversation_key,
            user_id=message.user_id,
            request=message.text,
            summary=result.text[:500],
            tools_used=tuple(result.tools_used),
            success=result.success,
            timestamp=time.time(),
        )
        try:
            await memory.remember(item, embedded.for_memory)
        except Exception as exc:  # noqa: BLE001
            log.warning("memory_store_failed error=%s", type(exc).__name__)

    def chat_policy(self, chat_key: str) -> ChatPolicy:
        """The config's policy for this chat with its /allow and /deny rules on top."""
        return self.chat_rules.apply(chat_key, self.config.policy_for(chat_key))

    def allowed_tools(self, chat_key: str) -> list[ToolSpec]:
        return list(self._allowed.get(self.chat_policy(chat_key), self.services.hub.catalogue())[0])

    def tool_groups(self, chat_key: str) -> ToolGroups:
        """The allowed tools by server, named as the model calls them (for the directory)."""
        return self._allowed.get(self.chat_policy(chat_key), self.services.hub.catalogue())[1]

    async def select_tools(
        self, message: ChatMessage, embedded: Embedded | None, memories: Sequence[Memory] = ()
    ) -> list[ToolSpec]:
        """The few tools this message needs (semantic routing), or all allowed ones."""
        router = self.services.router
        strategy = self.config.orchestrator.tool_routing.strategy
        if strategy == "all" or router is None or embedded is None:
            return self.allowed_tools(message.chat_key)  # filtered only when all are offered
        await self.refresh_router()
        policy = self.chat_policy(message.chat_key)
        past = past_uses(memories)
        routed = router.route(
            message.text,
            embedded.vector,
            part_vectors=embedded.steps,
            past=past,
            allowed=lambda t: tool_allowed(policy, t),
        )
        log.info(
            "tools_routed chat=%s past_uses=%d tools=%s",
            message.chat_key,
            len(past),
            ",".join(r.tool.key for r in routed),
        )
        picked = [r.tool for r in routed]
        if "://" in message.text:  # a resource named by its URI gets its reader (issue 32)
            allowed = self.allowed_tools(message.chat_key)
            named = named_resource_tools(message.text, self.services.hub, allowed)
            picked += [t for t in named if t not in picked]
        return picked

    async def refresh_router(self) -> None:
        router = self.services.router
        if router is None:
            return
        catalogue = self.services.hub.catalogue()
        signature = (getattr(self.services.hub, "version", 0), frozenset(t.key for t in catalogue))
        if signature != self._indexed:
            await router.refresh(catalogue)
            self._indexed = signature

    async def no_llm_replies(self, message: ChatMessage) -> list[Reply]:
        """Without an LLM, free text still gets the best matching tools as ready /run lines;
        a scheduled run of free text fails (its history says why, and repeats pause it)."""
        if (message.message_id or "").startswith("schedule:"):
            return [Reply(NO_LLM_SCHEDULE_TEXT, ReplyKind.ERROR)]
        embedded = await self.embed(message.text)
        tools = await self.select_tools(message, embedded) if embedded is not None else []
        return [Reply(suggestion_text(NO_LLM_TEXT, tools[:5]))]


def summary_line(result: AgentResult) -> str:
    used = ", ".join(dict.fromkeys(result.tools_used)) or "no tools"
    status = "ok"
    if result.failures:
        status = f"{len(result.failures)} failed"
    elif result.cut:
        status = "answer cut short"
    elif result.placeholder:
        status = "no answer"
    return f"Summary: {used} · {result.steps} step(s) · {status}"
