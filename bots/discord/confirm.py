"""The buttons under a plan waiting for approval (Discord): only the asker or an admin may
press them; a press runs once (a replayed press is dropped) and is answered by follow-up. An
accepted press is acknowledged by taking the buttons away (`acknowledge`), so the chat shows the
question is settled; anyone else gets a private note and the buttons stay.

Once its buttons are gone the press cannot be pressed again, so it is not lost with the process
either (`answer_press`): it is recorded, before the acknowledgement, as a request a later
process resumes (`bots.discord.events.resume`), with its replies once computed and each
follow-up part once sent; a process killed midway leaves the rest to be answered in the channel,
replying to the question."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import discord

from bots.discord.resume import press_payload
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
        self,
        interaction: discord.Interaction,
        replies: Sequence[Reply],
        ephemeral: bool = False,
        *,
        key: str | None = None,
    ) -> None: ...

    async def post(
        self,
        channel: Any,
        replies: Sequence[Reply],
        reference: discord.Message | discord.MessageReference | None = None,
        *,
        key: str | None = None,
        sent: dict[str, str] | None = None,
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
    a plain acknowledgement instead (the buttons stay; a further press is told the plan was
    already answered). Not accepted (rate-limited, or the core will refuse the presser):
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


async def answer_press(
    host: ConfirmHost,
    interaction: discord.Interaction,
    key: str,
    message: ChatMessage,
    accepted: bool,
) -> None:
    """Acknowledge a press the core admitted, run it and answer it by follow-up. Accepted (its
    buttons go): first recorded under `key` as a press a later process answers if this one dies
    (`press_payload`), then its replies saved and each part marked once sent, as a message's
    are; a follow-up Discord refuses (its token lives 15 minutes, a run may take longer) is
    answered in the channel instead, replying to the question. Not accepted (the core refuses
    the presser): the buttons stay, nothing is recorded."""
    question = interaction.message
    channel_id = getattr(interaction.channel, "id", None)
    if not accepted or question is None or channel_id is None:
        await acknowledge(interaction, accepted)
        await host.followup(interaction, await host.orchestrator.handle(message, admitted=True))
        return
    await host.inflight.describe(key, press_payload(channel_id, message, str(question.id)))
    await acknowledge(interaction, accepted)
    replies = await host.orchestrator.handle(message, admitted=True)
    await host.inflight.store.save_replies(key, replies)
    try:
        await host.followup(interaction, replies, key=key)
    except discord.HTTPException as exc:
        # A follow-up token lives 15 minutes: a longer run (or a refused follow-up) is
        # answered in the channel instead, replying to the question, the parts out skipped.
        log.warning(
            "discord_followup_refused interaction=%s status=%s action=post_in_channel",
            interaction.id,
            exc.status,
        )
        request = await host.inflight.store.get(key)
        reference = discord.MessageReference(
            message_id=question.id, channel_id=channel_id, fail_if_not_exists=False
        )
        await host.post(
            interaction.channel,
            replies,
            reference=reference,
            key=key,
            sent=request.sent if request is not None else {},
        )


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
                if refusal is not None:
                    await acknowledge(interaction, accepted=False)
                    if refusal:
                        await self.bot.followup(interaction, refusal, ephemeral=True)
                    return
                # The command runs after the acknowledgement (it may take minutes, Discord
                # waits 3 seconds); recorded first, so a process dying meanwhile loses nothing.
                accepted = not await core.refuses_press(message)
                await answer_press(self.bot, interaction, key, message, accepted)
                self.stop()
            finally:
                await self.bot.inflight.end(key)

        return pressed
