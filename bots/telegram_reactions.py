"""Telegram reactions (setMessageReaction). Telegram accepts only its fixed set of reaction
emoji, which has no ✅ or ❌: a finished request gets 👍, a failed one 👎. A reaction replaces
the bot's earlier one on the message."""

from __future__ import annotations

from typing import Any

from telegram import Bot, ReactionTypeEmoji

from bots.reactions import Emoji, React, Reactions
from orchestrator.core import Orchestrator

TELEGRAM_EMOJI = Emoji(taken="👀", done="👍", failed="👎")


def telegram_reactions(orchestrator: Orchestrator) -> Reactions:
    return Reactions(lambda: orchestrator.config, TELEGRAM_EMOJI, "telegram")


def reactor(bot: Bot, chat_id: int, message_id: int) -> React:
    """Set one emoji on (chat_id, message_id), replacing what the bot set there before."""

    async def react(emoji: str, replacing: str | None) -> None:
        del replacing  # setMessageReaction replaces the bot's reactions on the message
        reaction: Any = [ReactionTypeEmoji(emoji)]
        await bot.set_message_reaction(chat_id, message_id, reaction=reaction)

    return react
