"""Telegram forum topics, and the one place a part is sent or edited.

A message in a forum topic carries `message_thread_id` (and `is_topic_message`); everything the
bot sends back for it (answers, notices, typing, confirmations, scheduled posts) carries the same
id, or Telegram would post it in General. Messages in General and in plain groups have no topic
and are answered as before.

A topic closed or deleted while the bot works refuses the send ("TOPIC_CLOSED", "message thread
not found"): the answer is then posted in the chat itself after a one-line note, so nothing is
lost.
"""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import BadRequest

from bots.telegram.render import TelegramPart

log = logging.getLogger(__name__)

TOPIC_GONE_TEXT = (
    "I could not post in the topic this request came from (it is closed or was deleted), "
    "so here is the answer."
)
_TOPIC_GONE = ("topic_closed", "topic_deleted", "message thread not found", "thread not found")


class TopicUnavailable(Exception):
    """The topic refused the send: closed or deleted."""


def topic_of(message: Message) -> int | None:
    """The forum topic a message was sent in; None for General, plain groups and DMs."""
    if message.is_topic_message and message.message_thread_id is not None:
        return message.message_thread_id
    return None


def topic_refused(exc: BadRequest) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in _TOPIC_GONE)


async def send_part(
    bot: Bot,
    chat_id: int,
    part: TelegramPart,
    reply_to: int | None,
    markup: InlineKeyboardMarkup | None = None,
    thread_id: int | None = None,
) -> Message:
    """Send one part (into `thread_id`'s topic); markup Telegram cannot parse is resent as plain
    text. Raises TopicUnavailable when the topic is closed or gone."""
    params = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    entities = part.entities
    for _ in range(2):
        try:
            return await bot.send_message(
                chat_id,
                part.text,
                entities=entities or None,
                reply_parameters=params,
                reply_markup=markup,
                message_thread_id=thread_id,
            )
        except BadRequest as exc:
            if thread_id is not None and topic_refused(exc):
                log.warning(
                    "telegram_topic_unavailable chat=%s thread=%s detail=%s",
                    chat_id,
                    thread_id,
                    str(exc)[:100],
                )
                raise TopicUnavailable(str(exc)) from exc
            if not entities or "entit" not in str(exc).lower():
                raise
            log.warning("telegram_markup_rejected chat=%s; resending as plain text", chat_id)
            entities = ()
    raise AssertionError("unreachable")  # pragma: no cover


async def edit_part(
    bot: Bot,
    chat_id: int,
    message_id: int,
    part: TelegramPart,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Replace a message's text (the "Working on it" notice): it stays in its topic."""
    try:
        edited = await bot.edit_message_text(
            part.text,
            chat_id=chat_id,
            message_id=message_id,
            entities=part.entities,
            reply_markup=markup,
        )
    except BadRequest as exc:
        if not part.entities or "entit" not in str(exc).lower():
            raise
        edited = await bot.edit_message_text(
            part.text, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    return edited if isinstance(edited, Message) else None
