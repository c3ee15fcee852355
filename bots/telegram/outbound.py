"""Telegram's outbound layer: the adapter's parts (delivery record, ordering, files,
reactions), and replies posted each part once, into the asking message's topic.

Markdown becomes Telegram entities, split at 4,096 characters; the first part of an answer
replaces the "Working on it" notice. A part whose send timed out may have been delivered, and
Telegram offers no way to check, so it is logged and never resent. A topic closed or deleted
while the bot works gets the answer in the chat itself after a one-line note. A question's
buttons are taken away once a permitted person pressed one (`remove_buttons`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardMarkup, Message
from telegram.error import TelegramError, TimedOut
from telegram.ext import Application

from bots.telegram.intake import PLATFORM
from bots.telegram.media import TelegramFiles, send_file
from bots.telegram.reactions import TelegramReactions
from bots.telegram.render import TelegramPart, render_markdown
from bots.telegram.sender import keyboard
from bots.telegram.topics import TOPIC_GONE_TEXT, TopicUnavailable, edit_part, send_part
from orchestrator.config import TelegramSettings
from orchestrator.core import Orchestrator
from orchestrator.delivery.base import DeliveryStore, InboundRequest
from orchestrator.delivery.in_process import InProcessDeliveryStore
from orchestrator.delivery.inflight import Inflight
from orchestrator.delivery.ordering import KeyedSequencer
from orchestrator.media.long_answers import long_answers_as_files
from orchestrator.messages import Reply, ReplyKind

log = logging.getLogger(__name__)

UNKNOWN = "unknown"  # a part whose send timed out: maybe delivered, never sent again


def _store(orchestrator: Orchestrator) -> DeliveryStore:
    return orchestrator.services.delivery or InProcessDeliveryStore()


class Outbound:
    """Replies rendered for Telegram and posted once each (see the module's docstring)."""

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
                    try:
                        posted = await send_file(self.app.bot, chat_id, file, reply_to, thread_id)
                    except TopicUnavailable:  # closed after the text went out: into the chat
                        thread_id = reply_to = None
                        await self._send_part(chat_id, TelegramPart(TOPIC_GONE_TEXT), None)
                        posted = await send_file(self.app.bot, chat_id, file, None)
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


async def remove_buttons(bot: Any, chat_id: int, message_id: int) -> None:
    """Take a question's inline keyboard away (a permitted person pressed one of its buttons),
    so the chat shows it is settled. Idempotent and never raises: a keyboard already gone ("message
    is not modified"), a message too old or deleted, a network error: logged, the buttons stay
    and a further press is told the plan was already answered. Not a
    parameter here: `message_thread_id` (the message id names the message in its topic)."""
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except TelegramError as exc:
        log.info(
            "telegram_buttons_kept chat=%s message=%s error=%s detail=%s",
            chat_id,
            message_id,
            type(exc).__name__,
            str(exc).replace(" ", "_")[:80],
        )
        return
    log.info("telegram_buttons_removed chat=%s message=%s", chat_id, message_id)
