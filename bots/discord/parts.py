"""Small pieces of the Discord adapter: a reply as message parts, the typing signal, and a
slash command as the text the core parses."""

from __future__ import annotations

import asyncio
import logging
import shlex
from typing import Any

import discord

from bots.rendering import split_markdown
from orchestrator.commands.registry import Command
from orchestrator.messages import Reply, ReplyKind

log = logging.getLogger(__name__)

DISCORD_LIMIT = 2000


def render(reply: Reply) -> list[str]:
    text = f"-# {reply.text}" if reply.kind is ReplyKind.SUMMARY else reply.text
    return split_markdown(text, DISCORD_LIMIT) or ["(empty)"]


async def keep_typing(channel: discord.abc.Messageable, every: float = 8.0) -> None:
    """Show "typing..." until cancelled; a failure to signal typing never matters."""
    while True:
        try:
            await channel.typing()
        except discord.DiscordException as exc:
            log.debug("typing_failed error=%s", type(exc).__name__)
            return
        await asyncio.sleep(every)


def command_text(command: Command, kwargs: dict[str, Any]) -> str:
    """The slash command as the text the core parses ('/run time get_current_time {...}')."""
    words = [f"/{command.name}"]
    for param in command.params:
        value = kwargs.get(param.name)
        if value is None:
            continue
        words.append(str(value) if param.rest else shlex.quote(str(value)))
    return " ".join(words)
