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
import time
from collections.abc import Sequence
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bots.telegram_render import TelegramPart, render_markdown
from orchestrator.app import build_orchestrator
from orchestrator.config import Config, TelegramSettings
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.policy import is_admin

log = logging.getLogger(__name__)

PLATFORM = "telegram"
TYPING_EVERY = 4.0
PROGRESS_EVERY = 10.0
WORKING_TEXT = "Working on it…"


class TelegramAdapter:
    """Turns updates into ChatMessages for the core and renders its replies for Telegram."""

    platform = PLATFORM

    def __init__(self, orchestrator: Orchestrator, settings: TelegramSettings) -> None:
        self.orchestrator = orchestrator
        self.settings = settings
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._askers: dict[tuple[int, int], str] = {}  # (chat, message) -> who may answer

    # -- set-up -------------------------------------------------------------------------------
    def install(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.app = app
        app.add_handler(MessageHandler(filters.TEXT | filters.COMMAND, self.on_message))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_error_handler(self.on_error)

    async def on_startup(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Publish the command menu and register as the core's Telegram backend."""
        commands = [
            BotCommand(c.name, c.help[:256])
            for c in self.orchestrator.commands
            if c.name.isascii() and c.name.replace("_", "").isalnum()
        ]
        await app.bot.set_my_commands(commands)
        self.orchestrator.attach(self)
        log.info("telegram_ready bot=%s commands=%d", app.bot.username, len(commands))

    # -- inbound ------------------------------------------------------------------------------
    def addressed(self, message: Message, bot_id: int, username: str) -> bool:
        """Should the bot answer this message at all?"""
        if message.chat.type == ChatType.PRIVATE:
            return True
        chat_key = f"{PLATFORM}:{message.chat.id}"
        respond_to = (
            self.orchestrator.config.policy_for(chat_key).respond_to or self.settings.respond_to
        )
        text = message.text or ""
        if text.startswith("/"):
            target = text.split()[0].partition("@")[2]
            return not target or target.lower() == username.lower()
        if respond_to == "all":
            return True
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
            return True
        mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        return any(
            value.lower() == f"@{username.lower()}"
            or (entity.user is not None and entity.user.id == bot_id)
            for entity, value in mentions.items()
        )

    def to_chat_message(
        self, message: Message, username: str, text: str | None = None, user: Any = None
    ) -> ChatMessage:
        sender = user or message.from_user
        raw = text if text is not None else (message.text or "")
        cleaned = raw.replace(f"@{username}", "").strip() if text is None else raw
        return ChatMessage(
            platform=PLATFORM,
            chat_id=str(message.chat.id),
            user_id=str(sender.id) if sender else "",
            text=cleaned,
            user_name=(sender.full_name if sender else ""),
            message_id=str(message.message_id),
            is_private=message.chat.type == ChatType.PRIVATE,
        )

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        bot = context.bot
        if not self.addressed(message, bot.id, bot.username):
            return
        chat_message = self.to_chat_message(message, bot.username)
        if await self.orchestrator.hand_off(chat_message):
            return  # a front end: a worker answers
        replies, notice = await self._work(message, chat_message)
        await self.deliver(message.chat.id, replies, reply_to=message.message_id, notice=notice)

    async def _work(
        self, message: Message, chat_message: ChatMessage
    ) -> tuple[list[Reply], Message | None]:
        """Run the core; keep typing up, and post a notice if it takes a while."""
        notice: Message | None = None
        typing = asyncio.create_task(self._keep_typing(message.chat.id))
        task = asyncio.create_task(self.orchestrator.handle(chat_message))
        started = time.monotonic()
        try:
            done, _ = await asyncio.wait({task}, timeout=self.settings.working_notice_seconds)
            if not done:
                notice = await self._send_part(
                    message.chat.id, TelegramPart(WORKING_TEXT), message.message_id
                )
            while not done:
                done, _ = await asyncio.wait({task}, timeout=PROGRESS_EVERY)
                if not done and notice is not None:
                    seconds = int(time.monotonic() - started)
                    await self._edit(notice, TelegramPart(f"{WORKING_TEXT} ({seconds}s)"))
            return task.result(), notice
        finally:
            typing.cancel()

    async def _keep_typing(self, chat_id: int) -> None:
        assert self.app is not None
        while True:
            try:
                await self.app.bot.send_chat_action(chat_id, ChatAction.TYPING)
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
        await query.answer()
        if await self.orchestrator.hand_off(presser):
            return
        replies = await self.orchestrator.handle(presser)
        await self.deliver(message.chat.id, replies, reply_to=message.message_id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error(
            "telegram_update_failed update_id=%s error=%s",
            update_id,
            type(context.error).__name__,
            exc_info=context.error,
        )
        if isinstance(update, Update) and update.effective_chat is not None:
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(
                    update.effective_chat.id, "Sorry, something went wrong handling that."
                )

    # -- outbound -----------------------------------------------------------------------------
    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        """ChatAdapter: post replies into a chat (scheduled runs)."""
        await self.deliver(int(chat_id), replies)

    async def deliver(
        self,
        chat_id: int,
        replies: Sequence[Reply],
        *,
        reply_to: int | None = None,
        notice: Message | None = None,
    ) -> None:
        for reply in replies:
            text = f"_{reply.text}_" if reply.kind is ReplyKind.SUMMARY else reply.text
            parts = render_markdown(text)
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                markup = _keyboard(reply) if last else None
                if notice is not None:
                    sent = await self._edit(notice, part, markup)
                    notice = None
                else:
                    sent = await self._send_part(chat_id, part, reply_to, markup)
                if markup is not None and sent is not None and reply.for_user_id:
                    self._askers[(chat_id, sent.message_id)] = reply.for_user_id

    async def _send_part(
        self,
        chat_id: int,
        part: TelegramPart,
        reply_to: int | None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Message | None:
        assert self.app is not None
        params = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        try:
            return await self.app.bot.send_message(
                chat_id,
                part.text,
                entities=part.entities,
                reply_parameters=params,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if not part.entities or "entit" not in str(exc).lower():
                raise
            log.warning("telegram_markup_rejected chat=%s; resending as plain text", chat_id)
            return await self.app.bot.send_message(
                chat_id, part.text, reply_parameters=params, reply_markup=markup
            )

    async def _edit(
        self, message: Message, part: TelegramPart, markup: InlineKeyboardMarkup | None = None
    ) -> Message | None:
        assert self.app is not None
        try:
            edited = await self.app.bot.edit_message_text(
                part.text,
                chat_id=message.chat.id,
                message_id=message.message_id,
                entities=part.entities,
                reply_markup=markup,
            )
        except BadRequest as exc:
            if not part.entities or "entit" not in str(exc).lower():
                raise
            edited = await self.app.bot.edit_message_text(
                part.text,
                chat_id=message.chat.id,
                message_id=message.message_id,
                reply_markup=markup,
            )
        return edited if isinstance(edited, Message) else message


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label, callback_data=c.command[:64]) for c in reply.choices]]
    )


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
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(adapter.on_startup)
    )
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
        builder = builder.base_file_url(
            settings.base_file_url or settings.base_url.replace("/bot", "/file/bot")
        )
    app = builder.build()
    adapter.install(app)
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
        await orchestrator.stop()

    app.post_init, app.post_shutdown = start, stop
    try:
        _serve(app, settings)
    except TelegramError as exc:
        # Start-up failures (bad token, no network): one clear line, never the token.
        log.error(
            "telegram_start_failed error=%s detail=%s",
            type(exc).__name__,
            str(exc).replace(str(settings.token), "***"),
        )
        return 2
    return 0


def _serve(app: Application[Any, Any, Any, Any, Any, Any], settings: TelegramSettings) -> None:
    """Long polling, or the webhook server when `bots.telegram.webhook` is set."""
    hook = settings.webhook
    if hook is None:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    app.run_webhook(
        listen=hook.listen,
        port=hook.port,
        url_path=hook.path,
        webhook_url=hook.url,
        secret_token=hook.secret_token,
        allowed_updates=Update.ALL_TYPES,
    )
