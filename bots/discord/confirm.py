"""The buttons under a plan waiting for approval (Discord): only the asker or an admin may
press them; a press runs once (a replayed press is dropped) and is answered by follow-up. An
accepted press is acknowledged by taking the buttons away (`acknowledge`), so the chat shows the
question is settled; anyone else gets a private note and the buttons stay."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import discord

from orchestrator.core import Orchestrator
from orchestrator.delivery.inflight import Inflight
from orchestrator.messages import ChatMessage, Reply
from orchestrator.policy import is_admin

log = logging.getLogger(__name__)

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


async def acknowledge(interaction: discord.Interaction, accepted: bool) -> None:
    """Answer a press within Discord's 3 seconds. Accepted: UPDATE_MESSAGE (callback type 7)
    with no components, so the buttons leave the message in the same call that acknowledges
    it; the answer follows as a follow-up message. If Discord refuses the update, logged, and
    a plain acknowledgement instead (the buttons stay; a further press is answered "expired or
    was already answered"). Not accepted (rate-limited, or the core will refuse the presser):
    acknowledged only, the buttons stay."""
    if accepted:
        try:
            await interaction.response.edit_message(view=None)
        except discord.HTTPException as exc:
            log.info(
                "discord_buttons_kept interaction=%s status=%s code=%s",
                interaction.id,
                exc.status,
                exc.code,
            )
        else:
            log.info("discord_buttons_removed interaction=%s", interaction.id)
            return
    if not interaction.response.is_done():
        await interaction.response.defer()


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
                core = self.bot.orchestrator
                message = self.bot.chat_message(interaction.user, interaction.channel, command)
                refusal = await core.admit(message)
                accepted = refusal is None and not await core.refuses_press(message)
                # The command runs after the acknowledgement (it may take minutes, Discord
                # waits 3 seconds). A process dying in between loses the press, as it loses any
                # interaction (they are not resumed): the buttons are gone, the approval waits
                # until it expires.
                await acknowledge(interaction, accepted)
                if refusal is not None:
                    if refusal:
                        await self.bot.followup(interaction, refusal, ephemeral=True)
                    return
                await self.bot.followup(interaction, await core.handle(message, admitted=True))
                self.stop()
            finally:
                await self.bot.inflight.end(key)

        return pressed
