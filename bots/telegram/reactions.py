"""Telegram reactions (setMessageReaction) on the asking message.

Telegram accepts only its fixed set of reaction emoji, which has no ✅ or ❌: a finished
request gets 👍, a failed one 👎; each reaction replaces the bot's earlier one. Reactions go
through a `Bot` of their own, without the application's rate limiter: a group's 20 messages a
minute are the answers' budget, so a reaction never queues in front of an answer, and one that
Telegram refuses (429 included) is dropped, never waited out.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Bot, ReactionTypeEmoji
from telegram.request import HTTPXRequest

from bots.reactions import TELEGRAM_EMOJI, React, Reactions
from orchestrator.config import TelegramSettings
from orchestrator.core import Orchestrator

TIMEOUT = 5.0


class TelegramReactions:
    def __init__(self, orchestrator: Orchestrator, settings: TelegramSettings) -> None:
        self.tracker = Reactions(lambda: orchestrator.config, TELEGRAM_EMOJI, "telegram")
        self._settings = settings
        self._bot: Bot | None = None
        self._opening = asyncio.Lock()

    async def start(self) -> None:
        """Open the client at start-up: building it (an SSL context) blocks the loop a moment,
        which must not happen while a request is being answered."""
        if self.tracker.enabled():
            await self._client()

    async def _client(self) -> Bot:
        async with self._opening:
            if self._bot is None:
                assert self._settings.token
                request = HTTPXRequest(
                    connection_pool_size=8,
                    read_timeout=TIMEOUT,
                    write_timeout=TIMEOUT,
                    connect_timeout=TIMEOUT,
                )
                bot = Bot(
                    self._settings.token,
                    base_url=self._settings.base_url or "https://api.telegram.org/bot",
                    request=request,
                )
                await bot.initialize()
                self._bot = bot
            return self._bot

    def react_to(self, chat_id: int, message_id: int) -> React:
        """Set one emoji on (chat_id, message_id), replacing what the bot set there before."""

        async def react(emoji: str, replacing: str | None) -> None:
            del replacing  # setMessageReaction replaces the bot's reactions on the message
            reaction: Any = [ReactionTypeEmoji(emoji)]
            bot = await self._client()
            await bot.set_message_reaction(chat_id, message_id, reaction=reaction)

        return react

    async def close(self) -> None:
        await self.tracker.close()
        if self._bot is not None:
            await self._bot.shutdown()
            self._bot = None
