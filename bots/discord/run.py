"""`orchestrator run discord`: the entry point (`orchestrator.platforms:discord`)."""

from __future__ import annotations

import asyncio
import logging

import discord

from bots.discord.client import create_bot
from orchestrator.app import build_orchestrator
from orchestrator.config import Config

log = logging.getLogger(__name__)


def run_discord(config: Config) -> int:
    """`orchestrator run discord`: connect to the gateway until interrupted."""
    settings = config.bots.discord
    if not settings.token:
        log.error("discord_not_configured hint=set DISCORD_BOT_TOKEN and bots.discord.token")
        return 2
    orchestrator = build_orchestrator(config)

    async def main() -> None:
        await orchestrator.start()  # loads the embedding model too, before receiving
        bot = create_bot(settings, orchestrator)
        try:
            async with bot:
                await bot.start(str(settings.token))
        finally:
            await orchestrator.stop()

    try:
        asyncio.run(main())
    except (discord.LoginFailure, discord.GatewayNotFound, discord.HTTPException, OSError) as exc:
        # Start-up failures (bad token, no network): one clear line, never the token.
        log.error(
            "discord_start_failed error=%s detail=%s",
            type(exc).__name__,
            str(exc).replace(str(settings.token), "***"),
        )
        return 2
    return 0
