"""Discord reactions on the asking message: 👀, then ✅ or ❌ (the bot's 👀 removed)."""

from __future__ import annotations

import discord

from bots.reactions import DISCORD_EMOJI, React, Reactions
from orchestrator.core import Orchestrator


def discord_reactions(orchestrator: Orchestrator) -> Reactions:
    return Reactions(lambda: orchestrator.config, DISCORD_EMOJI, "discord")


def reactor(message: discord.Message, me: discord.abc.Snowflake | None) -> React:
    """Add `emoji` to `message`, then take the bot's own `replacing` reaction off it."""

    async def react(emoji: str, replacing: str | None) -> None:
        await message.add_reaction(emoji)
        if replacing is not None and me is not None:
            await message.remove_reaction(replacing, me)

    return react
