"""Approval buttons in distributed mode (issue 31).

A worker has no gateway connection, so it cannot listen for clicks; it posts Run all / Cancel
as plain message components whose custom_id carries the command and the asker
(`orc:<asker id>:/confirm 1a2b3c4d`). The front end that receives the click (the gateway is
there) rebuilds the button from its custom_id (discord.py's dynamic items), checks the
presser (the asker or an admin; anyone else gets a private note), acknowledges within
Discord's 3 seconds and relays the command into the queue like a message from the presser,
keyed by the question and the presser, so a replayed click is queued once. A worker then runs
it and answers in the channel (or thread), replying to the question. Without a queue (single
mode, e.g. after switching back) the front end answers the click itself. An accepted click is
acknowledged by taking the buttons away (`confirm.acknowledge`), after it is queued.
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

import discord

from bots.discord.confirm import (
    NOT_YOURS_TEXT,
    ConfirmHost,
    acknowledge,
    answer_press,
    may_answer,
)
from bots.discord.threads import conversation_of
from orchestrator.messages import Choice, Reply

log = logging.getLogger(__name__)

PREFIX = "orc"
TEMPLATE = re.compile(rf"{PREFIX}:(?P<asker>\d*):(?P<command>/\S.*)", re.DOTALL)
CUSTOM_ID_LIMIT = 100  # Discord's limit for a component's custom_id


def custom_id(choice: Choice, asker: str | None) -> str:
    return f"{PREFIX}:{asker or ''}:{choice.command}"


def fits(choice: Choice, asker: str | None) -> bool:
    """Whether a choice can be a button (its custom_id within Discord's limit)."""
    return len(custom_id(choice, asker)) <= CUSTOM_ID_LIMIT


class RelayedChoice(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """A worker's button, rebuilt from its custom_id when someone clicks it."""

    def __init__(self, command: str, asker: str = "", label: str = "") -> None:
        super().__init__(
            discord.ui.Button(
                label=label or command, custom_id=custom_id(Choice("", command), asker)
            )
        )
        self.command, self.asker = command, asker

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RelayedChoice:
        return cls(match["command"], match["asker"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await relay_press(
            cast(ConfirmHost, interaction.client), interaction, self.command, self.asker
        )


def relay_view(reply: Reply) -> discord.ui.View | None:
    """The buttons a worker posts under a reply's last part; None without choices that fit.
    The view is stopped: nothing listens in the worker (the front end answers the clicks)."""
    buttons = [
        RelayedChoice(c.command, reply.for_user_id or "", c.label)
        for c in reply.choices
        if fits(c, reply.for_user_id)
    ]
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(button)
    view.stop()
    return view


async def relay_press(
    host: ConfirmHost, interaction: discord.Interaction, command: str, asker: str
) -> None:
    """A click on a worker's button: checked, acknowledged, queued once (or answered here)."""
    chat_id = conversation_of(interaction.channel)[0]
    if not may_answer(host.orchestrator, chat_id, interaction.user, asker):
        await interaction.response.send_message(NOT_YOURS_TEXT, ephemeral=True)
        return
    key = f"discord:interaction:{interaction.id}"
    if not await host.inflight.begin(key, {"kind": "interaction", "command": command}):
        return  # a replayed click: relayed the first time
    try:
        question = interaction.message
        pressed = host.chat_message(
            interaction.user,
            interaction.channel,
            command,
            str(question.id) if question is not None else None,
        )
        refusal = await host.orchestrator.admit(pressed)
        if refusal is not None:
            await acknowledge(interaction, accepted=False)
            if refusal:
                await host.followup(interaction, refusal, ephemeral=True)
            return
        accepted = not await host.orchestrator.refuses_press(pressed)
        if await host.orchestrator.hand_off(pressed):
            # Queued first (a quick write), then acknowledged, the buttons taken away: a process
            # dying between the two leaves them, and a further press is told the plan was
            # already answered.
            await acknowledge(interaction, accepted)
            log.info(
                "discord_press_relayed chat=%s interaction=%s", pressed.chat_id, interaction.id
            )
            return
        await answer_press(host, interaction, key, pressed, accepted)  # answered here
    finally:
        await host.inflight.end(key)
