"""The Telegram backend (python-telegram-bot 22): polling or webhook, groups and private chats.

In groups the bot answers messages that mention it, reply to it, or are commands (unless the
chat or config says `respond_to: all`); in private chats it answers everything. Commands come
from the core's registry and are published with setMyCommands. Answers thread to the asking
message; long work keeps the typing action up and posts one "Working on it" notice that the
answer then replaces. Flood control is PTB's AIORateLimiter, which waits out 429s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bots.telegram_intake import IntakeQueue, event_keys, update_key
from bots.telegram_logging import network_errors_in_one_line
from bots.telegram_media import MEDIA, TelegramFiles, has_media, send_file
from bots.telegram_reactions import TelegramReactions
from bots.telegram_render import TelegramPart, render_markdown
from bots.telegram_sender import keyboard
from bots.telegram_topics import TOPIC_GONE_TEXT, TopicUnavailable, edit_part, send_part, topic_of
from bots.telegram_webhook import Health, run_webhook_with_health
from orchestrator.app import build_orchestrator
from orchestrator.config import Config, TelegramSettings
from orchestrator.core import Orchestrator
from orchestrator.delivery.base import (
    DeliveryStore,
    InboundRequest,
    replies_from_data,
)
from orchestrator.delivery.in_process import InProcessDeliveryStore
from orchestrator.delivery.inflight import Inflight, given_up
from orchestrator.delivery.ordering import KeyedSequencer
from orchestrator.mcp.questions import is_answer
from orchestrator.media.long_answers import long_answers_as_files
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.policy import is_admin
from orchestrator.progress import Progress

log = logging.getLogger(__name__)

PLATFORM = "telegram"
TYPING_EVERY = 4.0
PROGRESS_EVERY = 10.0
WORKING_TEXT = "Working on it…"
GAVE_UP_TEXT = "Sorry, I was restarted twice while working on this; please ask again."
ADAPTER = "telegram_adapter"  # where create_application leaves the adapter, in bot_data
UNKNOWN = "unknown"  # a part whose send timed out: maybe delivered, never sent again


def working_text(seconds: int, doing: str) -> str:
    """The notice while a request runs: "Working on it… (12s: running clickup/create_task)"."""
    return f"{WORKING_TEXT} ({seconds}s: {doing})" if doing else f"{WORKING_TEXT} ({seconds}s)"


def _store(orchestrator: Orchestrator) -> DeliveryStore:
    return orchestrator.services.delivery or InProcessDeliveryStore()


class TelegramAdapter:
    """Turns updates into ChatMessages for the core and renders its replies for Telegram.

    Exactly once: every update is claimed and recorded by `accept` (from the update queue)
    before Telegram is told we have it; one person's messages in a chat are handled and answered
    in arrival order; each reply part sent is recorded, so a request resumed after a crash
    replaces its stale "Working on it" notice and sends only what is missing.
    """

    platform = PLATFORM

    def __init__(self, orchestrator: Orchestrator, settings: TelegramSettings) -> None:
        self.orchestrator = orchestrator
        self.settings = settings
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._askers: dict[tuple[int, int], str] = {}  # (chat, message) -> who may answer
        self.store = _store(orchestrator)
        self.inflight = Inflight(
            self.store, PLATFORM, lease_seconds=orchestrator.config.delivery.lease_seconds
        )
        self.order = KeyedSequencer()
        self._resumed: dict[str, InboundRequest] = {}
        self.files = TelegramFiles(lambda: self.orchestrator.config)
        self.reactions = TelegramReactions(orchestrator, settings)

    # -- set-up -------------------------------------------------------------------------------
    def install(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.app = app
        edited = filters.UpdateType.EDITED
        text = filters.TEXT | filters.COMMAND | MEDIA
        app.add_handler(MessageHandler(text & ~edited, self.on_message))
        app.add_handler(MessageHandler(edited, self.on_edit))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(TypeHandler(Update, self.on_done), group=1)  # after the handler above
        app.add_error_handler(self.on_error)

    async def on_startup(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Publish the command menu, register as the core's Telegram backend, and resume what
        a previous process left unfinished."""
        commands = [
            BotCommand(c.name, c.help[:256])
            for c in self.orchestrator.commands
            if c.name.isascii() and c.name.replace("_", "").isalnum()
        ]
        try:
            await app.bot.set_my_commands(commands)
        except TelegramError as exc:  # the menu is a convenience: the bot works without it
            log.warning(
                "telegram_commands_not_published error=%s detail=%s",
                type(exc).__name__,
                str(exc)[:200],
            )
        self.orchestrator.attach(self)
        try:
            await self.reactions.start()
        except TelegramError as exc:  # reactions are a courtesy: the bot works without them
            log.warning("telegram_reactions_unavailable error=%s", type(exc).__name__)
        self.inflight.start(self.resume)
        log.info("telegram_ready bot=%s commands=%d", app.bot.username, len(commands))

    async def on_shutdown(self) -> None:
        await self.inflight.stop()
        await self.reactions.close()

    # -- exactly once -------------------------------------------------------------------------
    async def accept(self, update: Update) -> bool:
        """Claim and record an update (the update queue calls this); False for a duplicate."""
        return await self.inflight.begin(update_key(update), update.to_dict(), *event_keys(update))

    async def on_done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every update ends here, answered, ignored or failed: it is no longer in flight."""
        await self.inflight.end(update_key(update))

    async def resume(self, request: InboundRequest) -> None:
        """Run an update again that a dead process had recorded but not finished."""
        assert self.app is not None
        update = Update.de_json(request.payload, self.app.bot)
        self._resumed[request.key] = request
        try:
            await self.app.process_update(update)
        finally:
            self._resumed.pop(request.key, None)

    # -- inbound ------------------------------------------------------------------------------
    def addressed(self, message: Message, bot_id: int, username: str) -> bool:
        """Should the bot answer this message at all?"""
        if message.chat.type == ChatType.PRIVATE:
            return True
        chat_key = f"{PLATFORM}:{message.chat.id}"
        respond_to = (
            self.orchestrator.config.policy_for(chat_key).respond_to or self.settings.respond_to
        )
        text = message.text or message.caption or ""
        if text.startswith("/"):
            target = text.split()[0].partition("@")[2]
            return not target or target.lower() == username.lower()
        if respond_to == "all":
            return True
        replied = message.reply_to_message
        if replied is not None and replied.forum_topic_created is not None:
            replied = None  # in a topic every message "replies" to the topic's first message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
            return True
        kinds: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
        mentions = message.parse_entities(kinds) | message.parse_caption_entities(kinds)
        return any(
            value.lower() == f"@{username.lower()}"
            or (entity.user is not None and entity.user.id == bot_id)
            for entity, value in mentions.items()
        )

    def to_chat_message(
        self, message: Message, username: str, text: str | None = None, user: Any = None
    ) -> ChatMessage:
        sender = user or message.from_user
        raw = text if text is not None else (message.text or message.caption or "")
        cleaned = strip_mention(raw, username) if text is None else raw
        topic = topic_of(message)
        chat_message = ChatMessage(
            platform=PLATFORM,
            chat_id=str(message.chat.id),
            user_id=str(sender.id) if sender else "",
            text=cleaned,
            user_name=(sender.full_name if sender else ""),
            message_id=str(message.message_id),
            is_private=message.chat.type == ChatType.PRIVATE,
            thread_id=str(topic) if topic is not None else None,
        )
        return self.orchestrator.in_conversation(chat_message)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or (message.text is None and not has_media(message)):
            return
        bot = context.bot
        if not self.addressed(message, bot.id, bot.username):  # kept as conversation context
            await self.orchestrator.observe(self.to_chat_message(message, bot.username))
            return
        chat_message = self.to_chat_message(message, bot.username)
        # Counted as it arrives, not when its turn comes: a flood is refused while it floods
        # (one notice), instead of queueing behind the sender's earlier messages.
        refusal = await self.orchestrator.admit(chat_message)
        if refusal is not None:
            await self.deliver(
                message.chat.id, refusal, reply_to=message.message_id, thread_id=topic_of(message)
            )
            return
        media, key = has_media(message), update_key(update)
        react = self.reactions.react_to(message.chat.id, message.message_id)
        if not media and await self.orchestrator.hand_off(chat_message):
            self.reactions.tracker.taken(chat_message, react)  # a worker sets 👍 / 👎
            return  # a front end: a worker answers
        # The place in this person's line is taken now, before any await: arrival order.
        async with self._turn(chat_message):
            taken = self.reactions.tracker.taken(chat_message, react)  # 👀: never waited on
            prior = self._resumed.get(key)
            if media and (prior is None or prior.replies is None):  # read (transcribe) once
                read = await self.files.read(context.bot, message, chat_message)
                if isinstance(read, Reply):
                    sent = prior.sent if prior is not None else None  # resumed: once
                    await self.deliver(
                        message.chat.id,
                        [read],
                        reply_to=message.message_id,
                        key=key,
                        sent=sent,
                        thread_id=topic_of(message),
                    )
                    self.reactions.tracker.ended(taken, chat_message, [read], react)
                    return
                chat_message = read
                if await self.orchestrator.hand_off(chat_message):
                    return
            replies = await self.answer(key, chat_message, message.chat.id, message.message_id)
            self.reactions.tracker.ended(taken, chat_message, replies, react)  # 👍 or 👎

    def _turn(
        self, message: ChatMessage, key: str | None = None
    ) -> AbstractAsyncContextManager[Any]:
        """This person's place in line; none for an answer to a server's question, which their
        own waiting request needs now (issue 32)."""
        if is_answer(message.text):
            return contextlib.nullcontext()
        return self.order.turn(key or f"{message.conversation_key}:{message.user_id}")

    async def send_private(self, user_id: str, replies: Sequence[Reply]) -> bool:
        """A private message (a sign-in or form link): the person's private chat with the bot,
        whose id is their user id. False when they never started one (Telegram refuses)."""
        try:
            await self.deliver(int(user_id), replies)
        except TelegramError as exc:
            log.warning("telegram_private_failed user=%s error=%s", user_id, type(exc).__name__)
            return False
        return True

    async def on_edit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message is not answered: its original was (a command in it ran once), and
        answering the edit would run it again."""
        message = update.effective_message
        if message is not None:
            log.info(
                "telegram_edit_ignored chat=%s message=%s", message.chat.id, message.message_id
            )

    async def answer(
        self, key: str, chat_message: ChatMessage, chat_id: int, reply_to: int
    ) -> list[Reply]:
        """Answer once: reuse what a crashed run already computed, sent and noticed. Into the
        message's topic, if it came from one (a resumed update keeps its topic)."""
        thread = int(chat_message.thread_id) if chat_message.thread_id else None
        prior = self._resumed.pop(key, None)
        notice = int(prior.notice) if prior is not None and prior.notice else None
        if prior is not None and given_up(prior):
            replies = [Reply(GAVE_UP_TEXT, ReplyKind.ERROR)]
            await self.deliver(
                chat_id,
                replies,
                reply_to=reply_to,
                notice=notice,
                key=key,
                sent=prior.sent,
                thread_id=thread,
            )
            return replies
        if prior is not None and prior.replies is not None:
            replies = replies_from_data(prior.replies)
        else:
            replies, notice = await self._work(key, chat_id, reply_to, chat_message, notice)
            await self.store.save_replies(key, replies)
        sent = prior.sent if prior is not None else {}
        await self.deliver(
            chat_id, replies, reply_to=reply_to, notice=notice, key=key, sent=sent, thread_id=thread
        )
        return replies

    async def _work(
        self,
        key: str,
        chat_id: int,
        reply_to: int,
        chat_message: ChatMessage,
        notice: int | None = None,
    ) -> tuple[list[Reply], int | None]:
        """Run the core; keep typing up, and post a notice (recorded) if it takes a while."""
        thread = int(chat_message.thread_id) if chat_message.thread_id else None
        typing = asyncio.create_task(self._keep_typing(chat_id, thread))
        progress = Progress()
        work = self.orchestrator.handle(chat_message, admitted=True)  # admitted on arrival
        task = asyncio.create_task(progress.track(work))
        started = time.monotonic()
        try:
            done, _ = await asyncio.wait({task}, timeout=self.settings.working_notice_seconds)
            if not done and notice is None:
                text = working_text(int(time.monotonic() - started), progress.doing)
                posted: Message | None = None
                with contextlib.suppress(TopicUnavailable):  # the answer says so, once
                    posted = await self._send_part(
                        chat_id, TelegramPart(text), reply_to, thread_id=thread
                    )
                if posted is not None:
                    notice = posted.message_id
                    await self.store.set_notice(key, str(notice))
            while not done:
                done, _ = await asyncio.wait({task}, timeout=PROGRESS_EVERY)
                if not done and notice is not None:
                    text = working_text(int(time.monotonic() - started), progress.doing)
                    with contextlib.suppress(TelegramError):
                        await self._edit(chat_id, notice, TelegramPart(text))
            return task.result(), notice
        finally:
            typing.cancel()

    async def _keep_typing(self, chat_id: int, thread_id: int | None = None) -> None:
        assert self.app is not None
        while True:
            try:
                await self.app.bot.send_chat_action(
                    chat_id, ChatAction.TYPING, message_thread_id=thread_id
                )
            except TelegramError as exc:
                log.debug("typing_failed error=%s", type(exc).__name__)
            await asyncio.sleep(TYPING_EVERY)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None or not query.data:
            return
        message = query.message
        if not isinstance(message, Message):
            return  # too old for Telegram to show: nothing to answer in
        presser = self.to_chat_message(
            message,
            context.bot.username,
            text=query.data,
            user=query.from_user,
        )
        asker = self._askers.get((message.chat.id, message.message_id))
        if asker and asker != presser.user_id and not is_admin(self.orchestrator.config, presser):
            await query.answer(
                "Only the person who asked (or an admin) can answer this.", show_alert=True
            )
            return
        refusal = await self.orchestrator.admit(presser)
        if refusal is not None:
            with contextlib.suppress(TelegramError):
                await query.answer(refusal[0].text[:200] if refusal else None)
            return
        async with self._turn(presser, f"{presser.chat_key}:{presser.user_id}"):
            with contextlib.suppress(TelegramError):  # too old after a restart: answer anyway
                await query.answer()
            if await self.orchestrator.hand_off(presser):
                return  # a front end: a worker answers
            await self.answer(update_key(update), presser, message.chat.id, message.message_id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error(
            "telegram_update_failed update_id=%s error=%s",
            update_id,
            type(context.error).__name__,
            exc_info=context.error,
        )
        if isinstance(update, Update) and update.effective_chat is not None:
            origin = update.effective_message
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(
                    update.effective_chat.id,
                    "Sorry, something went wrong handling that.",
                    message_thread_id=topic_of(origin) if origin is not None else None,
                )

    # -- outbound -----------------------------------------------------------------------------
    async def send(
        self, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> None:
        """ChatAdapter: post replies into a chat or one of its topics (scheduled runs)."""
        await self.deliver(int(chat_id), replies, thread_id=int(thread_id) if thread_id else None)

    async def deliver(
        self,
        chat_id: int,
        replies: Sequence[Reply],
        *,
        reply_to: int | None = None,
        notice: int | None = None,
        key: str | None = None,
        sent: dict[str, str] | None = None,
        thread_id: int | None = None,
    ) -> None:
        """Post each part once: parts in `sent` are skipped, each new one is recorded under
        `key`. The first part replaces the notice. A part whose send timed out may have been
        delivered, and Telegram offers no way to check, so it is logged and never resent.
        Parts go into topic `thread_id`; if it is closed or gone, into the chat after a note."""
        done = dict(sent or {})
        if done:
            notice = None  # the first part, already out, replaced it
        limit = self.orchestrator.config.files.answer_as_file_after_parts
        replies = long_answers_as_files(replies, limit, lambda t: len(render_markdown(t)))
        for r_index, reply in enumerate(replies):
            text = f"_{reply.text}_" if reply.kind is ReplyKind.SUMMARY else reply.text
            parts = render_markdown(text)
            for index, part in enumerate(parts):
                part_id = f"{r_index}.{index}"
                if part_id in done:
                    continue
                last = index == len(parts) - 1
                markup = keyboard(reply) if last else None
                try:
                    if notice is not None:
                        message = await self._edit(chat_id, notice, part, markup)
                        notice = None
                    else:
                        message = await self._send_part(chat_id, part, reply_to, markup, thread_id)
                except TopicUnavailable:
                    thread_id = reply_to = None
                    await self._send_part(chat_id, TelegramPart(TOPIC_GONE_TEXT), None)
                    message = await self._send_part(chat_id, part, None, markup)
                except TimedOut:
                    log.warning(
                        "telegram_send_timeout chat=%s part=%s action=not_resent", chat_id, part_id
                    )
                    message = None
                if key is not None:
                    ref = str(message.message_id) if message is not None else UNKNOWN
                    await self.store.mark_sent(key, part_id, ref)
                if markup is not None and message is not None and reply.for_user_id:
                    self._askers[(chat_id, message.message_id)] = reply.for_user_id
            for f_index, file in enumerate(reply.files):  # a tool's images and files
                part_id = f"{r_index}.f{f_index}"
                if part_id not in done and self.app is not None:
                    posted = await send_file(self.app.bot, chat_id, file, reply_to)
                    if key is not None:
                        await self.store.mark_sent(key, part_id, posted or UNKNOWN)

    async def _send_part(
        self,
        chat_id: int,
        part: TelegramPart,
        reply_to: int | None,
        markup: InlineKeyboardMarkup | None = None,
        thread_id: int | None = None,
    ) -> Message | None:
        assert self.app is not None
        return await send_part(self.app.bot, chat_id, part, reply_to, markup, thread_id)

    async def _edit(
        self,
        chat_id: int,
        message_id: int,
        part: TelegramPart,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Message | None:
        assert self.app is not None
        return await edit_part(self.app.bot, chat_id, message_id, part, markup)


def strip_mention(text: str, username: str) -> str:
    """'@Ops_Bot /run x' -> '/run x': Telegram usernames are case-insensitive."""
    return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.IGNORECASE).strip()


def create_application(
    settings: TelegramSettings, orchestrator: Orchestrator
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application, unstarted, with our handlers (tests and `run` both use this)."""
    if not settings.token:
        raise ValueError("bots.telegram.token is not set (TELEGRAM_BOT_TOKEN)")
    adapter = TelegramAdapter(orchestrator, settings)
    builder = (
        Application.builder()
        .token(settings.token)
        .rate_limiter(AIORateLimiter(max_retries=3))  # retries a 429: proven not delivered
        .concurrent_updates(True)
        .update_queue(IntakeQueue(adapter.accept))
        .post_init(adapter.on_startup)
    )
    if settings.request_timeout_seconds is not None:
        timeout = settings.request_timeout_seconds
        builder = builder.read_timeout(timeout).write_timeout(timeout)
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
        builder = builder.base_file_url(
            settings.base_file_url or settings.base_url.replace("/bot", "/file/bot")
        )
    app = builder.build()
    adapter.install(app)
    app.bot_data[ADAPTER] = adapter
    return app


def run_telegram(config: Config) -> int:
    """`orchestrator run telegram`: long polling, or a webhook server when configured."""
    settings = config.bots.telegram
    if not settings.token:
        log.error("telegram_not_configured hint=set TELEGRAM_BOT_TOKEN and bots.telegram.token")
        return 2
    orchestrator = build_orchestrator(config)
    app = create_application(settings, orchestrator)
    on_startup = app.post_init

    async def start(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await orchestrator.start()
        if on_startup is not None:
            await on_startup(application)

    async def stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await application.bot_data[ADAPTER].on_shutdown()
        await orchestrator.stop()

    app.post_init, app.post_shutdown = start, stop

    def health() -> tuple[bool, dict[str, Any]]:
        servers = orchestrator.services.hub.status()
        up = sum(s.state == "up" for s in servers)
        return app.running, {"servers_up": up, "servers": len(servers)}

    with network_errors_in_one_line():
        return _run(app, settings, health)


def _run(
    app: Application[Any, Any, Any, Any, Any, Any], settings: TelegramSettings, health: Health
) -> int:
    try:
        _serve(app, settings, health)
    except TelegramError as exc:
        # Start-up failures (bad token, no network): one clear line, never the token.
        log.error(
            "telegram_start_failed error=%s detail=%s",
            type(exc).__name__,
            str(exc).replace(str(settings.token), "***"),
        )
        return 2
    return 0


def _serve(
    app: Application[Any, Any, Any, Any, Any, Any], settings: TelegramSettings, health: Health
) -> None:
    """Long polling, or the webhook server (with `GET /healthz`) when `bots.telegram.webhook`
    is set."""
    hook = settings.webhook
    if hook is None:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    run_webhook_with_health(app, hook, health)
