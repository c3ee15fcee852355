"""Telegram replies from a worker: python-telegram-bot's `Bot` over the HTTP Bot API only.

No polling and no webhook: the front end receives, the worker posts. A 429 is waited out and
retried (Telegram proved it did not deliver); a refused request or a failed connection is
reported as not delivered; a timeout is not retried, because the message may have arrived.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import httpx
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReactionTypeEmoji,
    ReplyParameters,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bots.reactions import TELEGRAM_EMOJI
from bots.telegram.media import upload
from bots.telegram.render import TelegramPart, render_markdown
from orchestrator.config import Config, TelegramSettings
from orchestrator.messages import OutFile, Reply, ReplyKind
from orchestrator.queue.base import OutPart, SendNotDelivered, numbered_parts
from orchestrator.reactions import Outcome

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_FLOOD_WAITS = 5
POOL_SIZE = 32
NOT_CONNECTED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class TelegramSender:
    platform = PLATFORM
    idempotent = False  # the Bot API has no idempotency key: a resend is a second message

    def __init__(self, settings: TelegramSettings) -> None:
        assert settings.token
        base_url = settings.base_url or "https://api.telegram.org/bot"
        # PTB's default pool is one connection: a worker's concurrent jobs would queue on it.
        self.bot = Bot(
            settings.token,
            base_url=base_url,
            base_file_url=settings.base_file_url or base_url.replace("/bot", "/file/bot"),
            request=HTTPXRequest(connection_pool_size=POOL_SIZE),
        )

    async def start(self) -> None:
        await self.bot.initialize()

    async def close(self) -> None:
        await self.bot.shutdown()

    def render(self, replies: Sequence[Reply]) -> list[OutPart]:
        return numbered_parts(
            replies,
            lambda r: render_markdown(f"_{r.text}_" if r.kind is ReplyKind.SUMMARY else r.text),
        )

    async def send(
        self,
        chat_id: str,
        part: OutPart,
        reply_to: str | None,
        key: str = "",
        thread_id: str | None = None,
    ) -> str:
        body: TelegramPart = part.body
        params = (
            ReplyParameters(int(reply_to), allow_sending_without_reply=True) if reply_to else None
        )
        markup = keyboard(part.reply) if part.last else None
        entities = getattr(body, "entities", ())
        for _ in range(MAX_FLOOD_WAITS):
            try:
                if isinstance(part.body, OutFile):  # a tool's image or file (issue 31)
                    topic = int(thread_id) if thread_id else None
                    sent = await upload(self.bot, int(chat_id), part.body, params, topic)
                    return str(sent.message_id)
                sent = await self.bot.send_message(
                    int(chat_id),
                    body.text,
                    entities=entities or None,
                    reply_parameters=params,
                    reply_markup=markup,
                    message_thread_id=int(thread_id) if thread_id else None,
                )
                return str(sent.message_id)
            except RetryAfter as exc:
                wait = exc.retry_after
                seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                log.info("telegram_flood_wait chat=%s seconds=%s", chat_id, seconds)
                await asyncio.sleep(float(seconds))
            except BadRequest as exc:
                if entities and "entit" in str(exc).lower():
                    log.warning("telegram_markup_rejected chat=%s; resending as plain", chat_id)
                    entities = ()
                    continue
                raise SendNotDelivered(f"telegram refused: {exc}") from exc
            except Forbidden as exc:
                raise SendNotDelivered(f"telegram refused: {exc}") from exc
            except (TimedOut, NetworkError) as exc:  # a timeout is ambiguous unless unconnected
                if isinstance(exc.__cause__, NOT_CONNECTED):
                    raise SendNotDelivered("telegram unreachable") from exc
                raise
        raise SendNotDelivered("telegram flood control did not clear")

    async def show_typing(self, chat_id: str, thread_id: str | None = None) -> None:
        """"typing…" while a worker runs the job, in its topic (issue 31)."""
        topic = int(thread_id) if thread_id else None
        await self.bot.send_chat_action(int(chat_id), ChatAction.TYPING, message_thread_id=topic)

    async def react(self, chat_id: str, message_id: str, outcome: Outcome) -> None:
        """Issue 31: the asking message's reaction (it replaces the front end's 👀)."""
        emoji: Any = [ReactionTypeEmoji(TELEGRAM_EMOJI.of(outcome))]
        await self.bot.set_message_reaction(int(chat_id), int(message_id), reaction=emoji)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label, callback_data=c.command[:64]) for c in reply.choices]]
    )


def telegram_sender(config: Config) -> TelegramSender | None:
    """Entry point `orchestrator.senders:telegram`: None without a token."""
    settings = config.bots.telegram
    return TelegramSender(settings) if settings.token else None
