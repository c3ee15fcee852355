"""Discord at the wire: the real bot, discord.py's own parsing, HTTP and webhook code, a fake API.

The bot logs in with discord.py's `login` (its HTTP client and webhook adapter pointed at the
fake REST server by `Route.BASE`), then the gateway's payloads are handed to discord.py's own
`ConnectionState` as the websocket would: GUILD_CREATE for the team's guild, MESSAGE_CREATE
for what people write, INTERACTION_CREATE for slash commands and button presses. Everything the
bot says crosses HTTP to `tests/fakes/discord_api.py`, which checks it as Discord does.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import discord

from bots.discord.client import OrchestratorBot, create_bot
from orchestrator.config import DiscordSettings
from orchestrator.core import Orchestrator
from tests.fakes.discord_api import APP_ID, BOT_USER, GUILD_ID, FakeDiscord
from tests.fakes.discord_interactions import APPLICATION_COMMAND, COMPONENT, Interaction
from tests.fakes.discord_threads import is_thread
from tests.helpers import eventually

GENERAL = "444444444444444441"
REPORTS = "444444444444444442"
DM_CHANNEL = "444444444444444449"
ADMIN_ROLE = "555555555555555555"
ADMINISTRATOR = 1 << 3
MEMBER_PERMISSIONS = 1 << 10 | 1 << 11  # view channel, send messages


def person(user_id: str, name: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
    }


ANN = person("100000000000000001", "ann")
BOB = person("100000000000000002", "bob")
ADA = person("100000000000000003", "ada")  # holds the Admin role
ROLES = {ANN["id"]: [], BOB["id"]: [], ADA["id"]: [ADMIN_ROLE], BOT_USER["id"]: []}


def member(user: dict[str, Any], with_user: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": ROLES.get(user["id"], []),
        "joined_at": "2024-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
    }
    if with_user:
        data["user"] = user
    return data


class DiscordWire:
    """The gateway side of one connected bot, and what it sent through the fake."""

    def __init__(self, api: FakeDiscord, bot: OrchestratorBot) -> None:
        self.api, self.bot = api, bot
        self._commands = itertools.count(888888888888888000)
        self.payloads: dict[str, dict[str, Any]] = {}  # INTERACTION_CREATE sent, by id

    # -- the gateway ------------------------------------------------------------------------------
    def guild_create(self) -> None:
        """GUILD_CREATE for the team's guild: its roles, channels and members."""
        channels = [
            {k: v for k, v in c.items() if k != "guild_id"}
            for c in self.api.channels.values()
            if c.get("guild_id") == GUILD_ID and not is_thread(c)
        ]
        threads = [
            c for c in self.api.channels.values() if c.get("guild_id") == GUILD_ID and is_thread(c)
        ]
        role = {"color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
        data = {
            "id": GUILD_ID,
            "name": "Team",
            "icon": None,
            "owner_id": "777777777777777777",
            "unavailable": False,
            "member_count": 4,
            "large": False,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [
                {
                    **role,
                    "id": GUILD_ID,
                    "name": "@everyone",
                    "permissions": str(MEMBER_PERMISSIONS),
                    "position": 0,
                },
                {
                    **role,
                    "id": ADMIN_ROLE,
                    "name": "Admin",
                    "permissions": str(ADMINISTRATOR),
                    "position": 1,
                },
            ],
            "channels": channels,
            "threads": threads,
            "members": [member(u) for u in (ANN, BOB, ADA, BOT_USER)],
            "voice_states": [],
            "presences": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "premium_tier": 0,
            "system_channel_flags": 0,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "preferred_locale": "en-US",
        }
        self.bot._connection.parse_guild_create(data)  # type: ignore[arg-type]

    def message(
        self,
        content: str,
        *,
        author: dict[str, Any] = ANN,
        channel: str = GENERAL,
        mention: bool = False,
        reply_to: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Someone writes in a channel (or the DM): held by the fake, then MESSAGE_CREATE.
        `attachments`: from `api.attachment(...)` (files, issue 31)."""
        text = f"<@{BOT_USER['id']}> {content}" if mention else content
        extra: dict[str, Any] = {"attachments": attachments} if attachments else {}
        if mention:
            extra["mentions"] = [{**BOT_USER, "member": member(BOT_USER, with_user=False)}]
        if reply_to is not None:
            extra["message_reference"] = {"message_id": reply_to["id"], "type": 0}
        stored = self.api.user_message(channel, author, text, **extra)
        payload = self.api.public(stored)
        if reply_to is not None:
            payload["referenced_message"] = self.api.public(reply_to)
        if channel != DM_CHANNEL:
            payload.update(guild_id=GUILD_ID, member=member(author, with_user=False))
        self.dispatch_message(payload)
        return payload

    def edit(self, sent: dict[str, Any], content: str) -> None:
        """Its author edits a message: the fake holds the new text, then MESSAGE_UPDATE."""
        stored = next(m for m in self.api.messages if m["id"] == sent["id"])
        stored.update(content=content, edited_timestamp=datetime.now(UTC).isoformat())
        payload = self.api.public(stored)
        if stored["channel_id"] != DM_CHANNEL:
            payload.update(guild_id=GUILD_ID, member=member(stored["author"], with_user=False))
        self.bot._connection.parse_message_update(payload)  # type: ignore[arg-type]

    def thread_create(self, parent: str, name: str) -> str:
        """A thread opened in a channel: the fake holds it, then THREAD_CREATE (f31a)."""
        thread_id = self.api.add_thread(parent, name, owner_id=ANN["id"])
        data = {**self.api.channels[thread_id], "newly_created": True}
        self.bot._connection.parse_thread_create(data)  # type: ignore[arg-type]
        return thread_id

    def dispatch_message(self, payload: dict[str, Any]) -> None:
        """MESSAGE_CREATE as the websocket hands it over (again, for a gateway replay)."""
        self.bot._connection.parse_message_create(payload)  # type: ignore[arg-type]

    def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: dict[str, Any] = ANN,
        channel: str = GENERAL,
        age: float = 0.0,
    ) -> Interaction:
        """A slash command: Discord hands out the interaction, then INTERACTION_CREATE."""
        interaction = self.api.interaction(APPLICATION_COMMAND, channel, age=age, user=user)
        command = self.bot.tree.get_command(name)
        assert command is not None and isinstance(command, discord.app_commands.Command)
        types = {p.name: p.type.value for p in command.parameters}
        data = {
            "id": str(next(self._commands)),
            "name": name,
            "type": 1,
            "options": [
                {"name": k, "type": types[k], "value": v} for k, v in (options or {}).items()
            ],
        }
        self.dispatch_interaction(self.interaction_payload(interaction, data, user))
        return interaction

    def press(
        self, message: dict[str, Any], label: str, *, user: dict[str, Any] = ANN
    ) -> Interaction:
        """Someone presses the button labelled `label` under a message the bot posted."""
        button = next(
            c for row in message["components"] for c in row["components"] if c.get("label") == label
        )
        interaction = self.api.interaction(
            COMPONENT, message["channel_id"], message["id"], user=user
        )
        data = {"custom_id": button["custom_id"], "component_type": button["type"]}
        payload = self.interaction_payload(interaction, data, user)
        payload["message"] = self.api.public(message)
        self.dispatch_interaction(payload)
        return interaction

    def interaction_payload(
        self, interaction: Interaction, data: dict[str, Any], user: dict[str, Any]
    ) -> dict[str, Any]:
        channel = self.api.channels[interaction.channel_id]
        admin = ADMIN_ROLE in ROLES.get(user["id"], [])
        permissions = MEMBER_PERMISSIONS | (ADMINISTRATOR if admin else 0)
        payload: dict[str, Any] = {
            "id": interaction.id,
            "application_id": APP_ID,
            "type": interaction.kind,
            "token": interaction.token,
            "version": 1,
            "data": data,
            "channel_id": interaction.channel_id,
            "channel": channel,
            "app_permissions": str(MEMBER_PERMISSIONS),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 8 * 1024 * 1024,
        }
        if channel.get("guild_id"):
            payload.update(
                guild_id=GUILD_ID,
                guild_locale="en-US",
                member={**member(user), "permissions": str(permissions)},
                authorizing_integration_owners={"0": GUILD_ID},
                context=0,
            )
        else:
            payload.update(user=user, authorizing_integration_owners={"1": user["id"]}, context=1)
        return payload

    def dispatch_interaction(self, payload: dict[str, Any]) -> None:
        """INTERACTION_CREATE as the websocket hands it over."""
        self.payloads[payload["id"]] = payload
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]

    def replay(self, interaction: Interaction) -> None:
        """The gateway delivers the same INTERACTION_CREATE again (after a resume)."""
        self.dispatch_interaction(self.payloads[interaction.id])

    # -- what crossed the wire --------------------------------------------------------------------
    def sent(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The bot's messages (interaction answers included), oldest first."""
        return [
            m
            for m in self.api.messages
            if not m.get("_user") and channel in (None, m["channel_id"])
        ]

    async def until(self, condition: Callable[[], bool], seconds: float = 20.0) -> None:
        assert await eventually(condition, seconds), "the bot did not get there in time"

    async def sent_at_least(self, count: int, channel: str | None = None) -> list[dict[str, Any]]:
        await self.until(lambda: len(self.sent(channel)) >= count)
        return self.sent(channel)

    async def answered(self, interaction: Interaction, count: int = 1) -> list[dict[str, Any]]:
        """The interaction's visible answers once there are `count` of them."""
        await self.until(lambda: len(interaction.answers()) >= count)
        return interaction.answers()

    def refusals(self) -> list[int]:
        """Statuses of the fake's error answers to the bot (the fake never errs unasked)."""
        return [c.status for c in self.api.calls if c.status >= 400]


def wire_channels(api: FakeDiscord) -> None:
    """The DM channel between Ann and the bot, beside the guild's channels."""
    api.channels.setdefault(
        DM_CHANNEL, {"id": DM_CHANNEL, "type": 1, "recipients": [ANN], "last_message_id": None}
    )


@asynccontextmanager
async def discord_wire(
    orchestrator: Orchestrator,
    settings: DiscordSettings | None = None,
    api: FakeDiscord | None = None,
) -> AsyncIterator[DiscordWire]:
    """The bot, logged in through the fake and in the team's guild (the orchestrator started
    and stopped by the caller)."""
    async with _api(api) as fake:
        wire_channels(fake)
        saved = discord.http.Route.BASE
        discord.http.Route.BASE = fake.base_url  # the webhook adapter reads the same Route
        bot = create_bot(settings or DiscordSettings(sync="none"), orchestrator)
        try:
            await bot.login(fake.token)
            wire = DiscordWire(fake, bot)
            wire.guild_create()
            yield wire
        finally:
            await bot.close()
            discord.http.Route.BASE = saved


@asynccontextmanager
async def _api(api: FakeDiscord | None) -> AsyncIterator[FakeDiscord]:
    if api is not None:
        yield api
        return
    async with FakeDiscord() as fake:
        yield fake
