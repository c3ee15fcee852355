"""The Telegram adapter's inbound layer: updates in, exactly once, in each person's order.

In groups the bot answers messages that mention it, reply to it, or are commands (unless the
chat or config says `respond_to: all`); in private chats it answers everything. Other messages
it can see are kept as conversation context. Files are read (voice transcribed) once before the
core; button presses are answered only for the asker or an admin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from telegram import BotCommand, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bots.telegram.intake import PLATFORM, event_keys, update_key
from bots.telegram.media import MEDIA, has_media
from bots.telegram.outbound import remove_buttons
from bots.telegram.topics import topic_of
from bots.telegram.working import Working
from orchestrator.delivery.base import InboundRequest
from orchestrator.mcp.questions import is_answer
from orchestrator.messages import ChatMessage, Reply
from orchestrator.policy import is_admin

log = logging.getLogger(__name__)


class TelegramAdapter(Working):
    """Turns updates into ChatMessages for the core and renders its replies for Telegram.

    Exactly once: every update is claimed and recorded by `accept` (from the update queue)
    before Telegram is told we have it; one person's messages in a chat are handled and answered
    in arrival order; each reply part sent is recorded, so a request resumed after a crash
    replaces its stale "Working on it" notice and sends only what is missing.
    """

    platform = PLATFORM

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
                read = await self.read_typing(context.bot, message, chat_message)
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

    async def read_typing(
        self, bot: Any, message: Message, base: ChatMessage
    ) -> ChatMessage | Reply:
        """Read a message's file (a voice note is transcribed) with typing shown meanwhile, in
        the message's topic."""
        typing = asyncio.create_task(self._keep_typing(message.chat.id, topic_of(message)))
        try:
            return await self.files.read(bot, message, base)
        finally:
            typing.cancel()

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
        """An edited message is never answered: its original was (a command in it ran once),
        and answering the edit would run it again. If it was kept as conversation context,
        the kept text becomes the edited one."""
        message = update.effective_message
        if message is None:
            return
        revised = False
        if message.text is not None or message.caption is not None:  # a caption may be kept
            edited = self.to_chat_message(message, context.bot.username)
            revised = await self.orchestrator.observe_edit(edited)
        log.info(
            "telegram_edit_not_answered chat=%s message=%s context_revised=%s",
            message.chat.id,
            message.message_id,
            revised,
        )

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
        # Accepted: the buttons go now, before the command runs or is queued (at once, not
        # behind the presser's earlier requests). Unless the core will refuse this presser, which
        # only it can tell when this process did not post the buttons (after a restart, or a
        # worker did) or an admin answers a tool server's question. Exactly once: a replayed
        # update is dropped by `accept`; one resumed after a crash edits again ("not modified",
        # logged) and runs its command once (its record). If the edit fails, or the process dies
        # before it and the update is not resumed, the buttons stay: a further press is told
        # the plan was already answered.
        if not await self.orchestrator.refuses_press(presser):
            await remove_buttons(context.bot, message.chat.id, message.message_id)
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


def strip_mention(text: str, username: str) -> str:
    """'@Ops_Bot /run x' -> '/run x': Telegram usernames are case-insensitive."""
    return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.IGNORECASE).strip()
