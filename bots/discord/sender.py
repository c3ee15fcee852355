"""Discord replies from a worker: discord.py's HTTP client only (`login`, no gateway).

Each part carries a nonce derived from its job and part number with `enforce_nonce` (discord.py
sends it with every nonce), so Discord itself drops a resent part it already created: a part
whose first send was never confirmed may be sent again safely. Buttons (Run all / Cancel) are
posted as components whose custom_id carries the command; the front end, which has the gateway,
relays a click into the queue (`bots/discord/relay.py`). A choice too long for a custom_id is
written as its command instead.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from typing import Any

import discord

from bots.discord.relay import fits, relay_view
from bots.reactions import DISCORD_EMOJI
from bots.rendering import split_markdown
from orchestrator.config import Config, DiscordSettings
from orchestrator.messages import OutFile, Reply, ReplyKind
from orchestrator.queue.base import OutPart, SendNotDelivered, numbered_parts
from orchestrator.reactions import Outcome

log = logging.getLogger(__name__)

PLATFORM = "discord"
DISCORD_LIMIT = 2000


class DiscordSender:
    platform = PLATFORM
    idempotent = True  # enforce_nonce: a resend of a delivered part is dropped by Discord

    def __init__(self, settings: DiscordSettings) -> None:
        assert settings.token
        self.token = str(settings.token)
        self.client = discord.Client(intents=discord.Intents.none())

    async def start(self) -> None:
        await self.client.login(self.token)

    async def close(self) -> None:
        await self.client.close()

    def render(self, replies: Sequence[Reply]) -> list[OutPart]:
        return numbered_parts(replies, _messages)

    async def send(
        self,
        chat_id: str,
        part: OutPart,
        reply_to: str | None,
        key: str = "",
        thread_id: str | None = None,
    ) -> str:
        where = int(thread_id or chat_id)  # a thread is a channel of its own
        channel = self.client.get_partial_messageable(where)
        options: dict[str, Any] = {"mention_author": False}
        if reply_to and reply_to.isdigit():
            options["reference"] = discord.MessageReference(
                message_id=int(reply_to), channel_id=where, fail_if_not_exists=False
            )
        if key:
            options["nonce"] = hashlib.sha1(key.encode()).hexdigest()[:25]
        view = relay_view(part.reply) if part.last and part.reply.choices else None
        if view is not None:
            options["view"] = view
        try:
            if isinstance(part.body, OutFile):  # a tool's image or file (issue 31)
                file = discord.File(io.BytesIO(part.body.data), filename=part.body.name)
                sent = await channel.send(file=file, **options)
            else:
                sent = await channel.send(str(part.body), **options)
        except (discord.Forbidden, discord.NotFound) as exc:
            raise SendNotDelivered(f"discord refused: {exc.status}") from exc
        except discord.HTTPException as exc:
            if 400 <= exc.status < 500:
                raise SendNotDelivered(f"discord refused: {exc.status}") from exc
            raise
        return str(sent.id)

    async def show_typing(self, chat_id: str, thread_id: str | None = None) -> None:
        """"typing…" while a worker runs the job, in its channel or thread (issue 31)."""
        await self.client.get_partial_messageable(int(thread_id or chat_id)).typing()

    async def react(self, chat_id: str, message_id: str, outcome: Outcome) -> None:
        """Issue 31: ✅ or ❌ on the asking message, then the front end's 👀 taken off."""
        channel = self.client.get_partial_messageable(int(chat_id))
        message = channel.get_partial_message(int(message_id))
        await message.add_reaction(DISCORD_EMOJI.of(outcome))
        if self.client.user is not None:
            await message.remove_reaction(DISCORD_EMOJI.taken, self.client.user)


def _messages(reply: Reply) -> list[str]:
    """A reply as Discord messages: a summary in small print, choices this person cannot press
    as commands to type, split at Discord's limit."""
    text = f"-# {reply.text}" if reply.kind is ReplyKind.SUMMARY else reply.text
    hints = [c for c in reply.choices if not fits(c, reply.for_user_id)]
    if hints:
        text += "\n" + " · ".join(f"{c.label}: `{c.command}`" for c in hints)
    return split_markdown(text, DISCORD_LIMIT) or ["(empty)"]


def discord_sender(config: Config) -> DiscordSender | None:
    """Entry point `orchestrator.senders:discord`: None without a token."""
    settings = config.bots.discord
    return DiscordSender(settings) if settings.token else None
