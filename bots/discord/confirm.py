"""The buttons under a plan waiting for approval (Discord): only the asker or an admin may
press them; a press runs once (a replayed press is dropped) and is answered by follow-up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import discord

from orchestrator.core import Orchestrator
from orchestrator.delivery.inflight import Inflight
from orchestrator.messages import ChatMessage, Reply
from orchestrator.policy import is_admin

PLATFORM = "discord"
CONFIRM_TIMEOUT = 15 * 60


class ConfirmHost(Protocol):
    """What the buttons need of the bot (the approval view's, and a relayed click's in
    distributed mode: `bots.discord.relay`)."""

    orchestrator: Orchestrator
    inflight: Inflight

    def chat_message(
        self, user: discord.abc.User, channel: Any, text: str, message_id: str | None = None
    ) -> ChatMessage: ...

    async def followup(
        self, interaction: discord.Interaction, replies: Sequence[Reply], ephemeral: bool = False
    ) -> None: ...


def member_is_admin(user: discord.abc.User) -> bool:
    perms = getattr(user, "guild_permissions", None)
    return bool(perms and (perms.administrator or perms.manage_guild))


def may_answer(
    orchestrator: Orchestrator, chat_id: str, user: discord.abc.User, asker: str | None
) -> bool:
    """The person who asked (anyone, when no one is named) or an admin of the chat."""
    if not asker or str(user.id) == asker:
        return True
    message = ChatMessage(PLATFORM, chat_id, str(user.id), "", is_admin=member_is_admin(user))
    return is_admin(orchestrator.config, message)


NOT_YOURS_TEXT = "Only the person who asked (or an admin) can answer this."


class ConfirmView(discord.ui.View):
    """Buttons for a pending confirmation, answerable only by the asker or an admin."""

    def __init__(self, bot: ConfirmHost, reply: Reply, chat_id: str) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.bot, self.for_user_id, self.chat_id = bot, reply.for_user_id, chat_id
        for choice in reply.choices:
            button: discord.ui.Button[ConfirmView] = discord.ui.Button(label=choice.label)
            button.callback = self._callback(choice.command)  # type: ignore[method-assign]
            self.add_item(button)

    def allowed(self, user: discord.abc.User) -> bool:
        return may_answer(self.bot.orchestrator, self.chat_id, user, self.for_user_id)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if self.allowed(interaction.user):
            return True
        await interaction.response.send_message(NOT_YOURS_TEXT, ephemeral=True)
        return False

    def _callback(self, command: str) -> Any:
        async def pressed(interaction: discord.Interaction) -> None:
            key = f"{PLATFORM}:interaction:{interaction.id}"
            if not await self.bot.inflight.begin(key, {"kind": "interaction", "command": command}):
                return  # a replayed press: its action already ran
            try:
                await interaction.response.defer(thinking=True)
                message = self.bot.chat_message(interaction.user, interaction.channel, command)
                replies = await self.bot.orchestrator.handle(message)
                await self.bot.followup(interaction, replies)
                self.stop()
            finally:
                await self.bot.inflight.end(key)

        return pressed
