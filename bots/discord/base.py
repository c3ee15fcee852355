"""The Discord bot's base layer: its parts (delivery record, ordering, files, reactions), who
is asking (a ChatMessage for the core) and whether a message is addressed to the bot."""

from __future__ import annotations

from typing import Any

import discord

from bots.discord.confirm import member_is_admin
from bots.discord.files import DiscordFiles
from bots.discord.reactions import discord_reactions
from bots.discord.threads import conversation_of
from orchestrator.config import DiscordSettings
from orchestrator.core import Orchestrator
from orchestrator.delivery.in_process import InProcessDeliveryStore
from orchestrator.delivery.inflight import Inflight
from orchestrator.delivery.ordering import KeyedSequencer
from orchestrator.messages import ChatMessage

PLATFORM = "discord"
ERROR_TEXT = "Sorry, something went wrong."


class BotBase(discord.Client):
    platform = PLATFORM

    def __init__(
        self,
        settings: DiscordSettings,
        orchestrator: Orchestrator,
        intents: discord.Intents | None = None,
    ) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = True
        super().__init__(intents=intents)
        self.settings = settings
        self.orchestrator = orchestrator
        store = orchestrator.services.delivery or InProcessDeliveryStore()
        self.inflight = Inflight(
            store, PLATFORM, lease_seconds=orchestrator.config.delivery.lease_seconds
        )
        self.store = store
        self.order = KeyedSequencer()
        self._recovering = False
        self.files = DiscordFiles(lambda: self.orchestrator.config)
        self.reactions = discord_reactions(orchestrator)

    def addressed(self, message: discord.Message) -> bool:
        if message.author.bot or self.user is None:
            return False
        if message.guild is None:
            return True
        chat_key = f"{PLATFORM}:{conversation_of(message.channel)[0]}"  # a thread: its channel
        respond_to = (
            self.orchestrator.config.policy_for(chat_key).respond_to or self.settings.respond_to
        )
        if respond_to == "all" or self.user in message.mentions:
            return True
        resolved = message.reference.resolved if message.reference else None
        return isinstance(resolved, discord.Message) and resolved.author == self.user

    def chat_message(
        self, user: discord.abc.User, channel: Any, text: str, message_id: str | None = None
    ) -> ChatMessage:
        chat_id, thread_id = conversation_of(channel)
        message = ChatMessage(
            platform=PLATFORM,
            chat_id=chat_id,
            user_id=str(user.id),
            text=text,
            user_name=getattr(user, "display_name", user.name),
            message_id=message_id,
            is_private=isinstance(channel, discord.DMChannel),
            is_admin=member_is_admin(user),
            thread_id=thread_id,
        )
        return self.orchestrator.in_conversation(message)

    def strip_mention(self, content: str) -> str:
        assert self.user is not None
        for form in (f"<@{self.user.id}>", f"<@!{self.user.id}>"):
            content = content.replace(form, "")
        return content.strip()
