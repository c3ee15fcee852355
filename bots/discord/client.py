"""The Discord bot: mentions and replies in guilds, threads, DMs, slash commands.

Its behaviour is in layers (`base`, `slash`, `sending`, `events`); this module adds the
connection's life: the command tree synced at set-up, resuming what a dead process left
unfinished once connected, closing cleanly."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bots.discord.events import MessageEvents
from bots.discord.relay import RelayedChoice
from orchestrator.config import DiscordSettings
from orchestrator.core import Orchestrator

log = logging.getLogger(__name__)


class OrchestratorBot(MessageEvents):
    def __init__(
        self,
        settings: DiscordSettings,
        orchestrator: Orchestrator,
        intents: discord.Intents | None = None,
    ) -> None:
        super().__init__(settings, orchestrator, intents)
        self.tree = app_commands.CommandTree(self)
        for command in orchestrator.commands:
            self.tree.add_command(self.slash_command(command))

    # -- set-up -------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        self.orchestrator.attach(self)
        self.add_dynamic_items(RelayedChoice)  # clicks on a worker's buttons (distributed mode)
        if self.settings.sync == "global":
            await self.tree.sync()
        elif self.settings.sync == "guild":
            for guild_id in self.settings.guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        log.info(
            "discord_commands_synced mode=%s guilds=%d commands=%d",
            self.settings.sync,
            len(self.settings.guild_ids),
            len(self.tree.get_commands()),
        )

    async def on_ready(self) -> None:
        """Once connected (the cache is filled): keep this process's leases and resume what a
        dead process left unfinished. READY comes again after a reconnect; start only once."""
        if not self._recovering:
            self._recovering = True
            self.inflight.start(self.resume)

    async def close(self) -> None:
        await self.inflight.stop()
        await self.reactions.close()
        await super().close()


def create_bot(settings: DiscordSettings, orchestrator: Orchestrator) -> OrchestratorBot:
    """The client, unstarted, so tests and tools can drive it."""
    return OrchestratorBot(settings, orchestrator)
