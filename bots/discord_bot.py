"""The Discord backend (discord.py 2.x): mentions and replies in guilds, DMs, slash commands.

Slash commands are built from the core's command registry, one declaration for every platform.
Interactions are deferred whenever the work may outlast Discord's 3-second deadline, then
answered by follow-up; admin-only commands answer ephemerally. Markdown passes through, split
at 2,000 characters with every code block closed in each part.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import shlex
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from bots.rendering import split_markdown
from orchestrator.app import build_orchestrator
from orchestrator.commands.registry import Command
from orchestrator.config import Config, DiscordSettings
from orchestrator.core import Orchestrator
from orchestrator.delivery.in_process import InProcessDeliveryStore
from orchestrator.delivery.inflight import Inflight
from orchestrator.delivery.ordering import KeyedSequencer
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.policy import is_admin

log = logging.getLogger(__name__)

PLATFORM = "discord"
DISCORD_LIMIT = 2000
DEFER_AFTER = 1.0  # seconds of work before an interaction is deferred
CONFIRM_TIMEOUT = 15 * 60
ERROR_TEXT = "Sorry, something went wrong."


def render(reply: Reply) -> list[str]:
    text = f"-# {reply.text}" if reply.kind is ReplyKind.SUMMARY else reply.text
    return split_markdown(text, DISCORD_LIMIT) or ["(empty)"]


def member_is_admin(user: discord.abc.User) -> bool:
    perms = getattr(user, "guild_permissions", None)
    return bool(perms and (perms.administrator or perms.manage_guild))


class ConfirmView(discord.ui.View):
    """Buttons for a pending confirmation, answerable only by the asker or an admin."""

    def __init__(self, bot: OrchestratorBot, reply: Reply, chat_id: str) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.bot, self.for_user_id, self.chat_id = bot, reply.for_user_id, chat_id
        for choice in reply.choices:
            button: discord.ui.Button[ConfirmView] = discord.ui.Button(label=choice.label)
            button.callback = self._callback(choice.command)  # type: ignore[method-assign]
            self.add_item(button)

    def allowed(self, user: discord.abc.User) -> bool:
        if self.for_user_id is None or str(user.id) == self.for_user_id:
            return True
        message = ChatMessage(
            PLATFORM, self.chat_id, str(user.id), "", is_admin=member_is_admin(user)
        )
        return is_admin(self.bot.orchestrator.config, message)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if self.allowed(interaction.user):
            return True
        await interaction.response.send_message(
            "Only the person who asked (or an admin) can answer this.", ephemeral=True
        )
        return False

    def _callback(self, command: str) -> Any:
        async def pressed(interaction: discord.Interaction) -> None:
            key = f"{PLATFORM}:interaction:{interaction.id}"
            if not await self.bot.inflight.begin(key, {"command": command}):
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


class OrchestratorBot(discord.Client):
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
        self.order = KeyedSequencer()
        self.tree = app_commands.CommandTree(self)
        for command in orchestrator.commands:
            self.tree.add_command(self.slash_command(command))

    # -- set-up -------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        self.orchestrator.attach(self)
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

    # -- messages -----------------------------------------------------------------------------
    def addressed(self, message: discord.Message) -> bool:
        if message.author.bot or self.user is None:
            return False
        if message.guild is None:
            return True
        chat_key = f"{PLATFORM}:{message.channel.id}"
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
        return ChatMessage(
            platform=PLATFORM,
            chat_id=str(getattr(channel, "id", "")),
            user_id=str(user.id),
            text=text,
            user_name=getattr(user, "display_name", user.name),
            message_id=message_id,
            is_private=isinstance(channel, discord.DMChannel),
            is_admin=member_is_admin(user),
        )

    def strip_mention(self, content: str) -> str:
        assert self.user is not None
        for form in (f"<@{self.user.id}>", f"<@!{self.user.id}>"):
            content = content.replace(form, "")
        return content.strip()

    async def on_message(self, message: discord.Message) -> None:
        """Answer once (a gateway replay of the same message is dropped), in this person's
        order; if anything fails, say so briefly rather than stay silent."""
        if not self.addressed(message):
            return
        text = self.strip_mention(message.content)
        if not text:
            return
        chat_message = self.chat_message(message.author, message.channel, text, str(message.id))
        if await self.orchestrator.hand_off(chat_message):
            return  # a front end: a worker answers
        turn = self.order.turn(f"{chat_message.chat_key}:{chat_message.user_id}")  # arrival order
        key = f"{PLATFORM}:message:{message.id}"
        if not await self.inflight.begin(key, {"channel": message.channel.id}):
            async with turn:
                return
        try:
            async with turn:
                await self._answer(message, chat_message)
        finally:
            await self.inflight.end(key)

    async def _answer(self, message: discord.Message, chat_message: ChatMessage) -> None:
        typing = asyncio.create_task(keep_typing(message.channel))
        try:
            try:
                replies = await self.orchestrator.handle(chat_message)
            finally:
                typing.cancel()
            await self.post(message.channel, replies, reference=message)
        except Exception as exc:  # noqa: BLE001 - the user gets a short answer, the log the rest
            log.exception(
                "discord_message_failed channel=%s error=%s", message.channel.id, type(exc).__name__
            )
            with contextlib.suppress(discord.DiscordException):
                await message.channel.send(ERROR_TEXT)

    async def post(
        self,
        channel: discord.abc.Messageable,
        replies: Sequence[Reply],
        reference: discord.Message | None = None,
    ) -> None:
        for reply in replies:
            parts = render(reply)
            for index, part in enumerate(parts):
                view = (
                    ConfirmView(self, reply, str(getattr(channel, "id", "")))
                    if reply.choices and index == len(parts) - 1
                    else None
                )
                kwargs: dict[str, Any] = {"view": view} if view else {}
                if reference is not None:
                    await reference.reply(part, mention_author=False, **kwargs)
                    reference = None
                else:
                    await channel.send(part, **kwargs)

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        """ChatAdapter: post into a channel (scheduled runs)."""
        channel = self.get_channel(int(chat_id)) or await self.fetch_channel(int(chat_id))
        await self.post(channel, replies)  # type: ignore[arg-type]

    # -- slash commands -----------------------------------------------------------------------
    def slash_command(self, command: Command) -> app_commands.Command[Any, Any, Any]:
        async def callback(interaction: discord.Interaction, **kwargs: Any) -> None:
            await self.run_slash(interaction, command, kwargs)

        parameters = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        for param in command.params:
            default = inspect.Parameter.empty if param.required else None
            annotation = param.kind if param.required else (param.kind | None)
            parameters.append(
                inspect.Parameter(
                    param.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=annotation,
                    default=default,
                )
            )
        callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        slash: app_commands.Command[Any, ..., Any] = app_commands.Command(
            name=command.name, description=command.help[:100], callback=callback
        )
        for param in command.params:
            described = slash._params[param.name]
            described.description = param.description[:100]
            if param.choices:
                described.choices = [app_commands.Choice(name=c, value=c) for c in param.choices]
        return slash

    async def run_slash(
        self, interaction: discord.Interaction, command: Command, kwargs: dict[str, Any]
    ) -> None:
        """Run a registry command; defer at once if it may outlast Discord's deadline."""
        ephemeral = command.admin_only
        text = command_text(command, kwargs)
        message = self.chat_message(interaction.user, interaction.channel, text)
        key = f"{PLATFORM}:interaction:{interaction.id}"
        if not await self.inflight.begin(key, {"command": text}):
            return  # a replayed interaction: answered (and its command run) the first time
        try:
            await self._run_slash(interaction, command, message, ephemeral)
        finally:
            await self.inflight.end(key)

    async def _run_slash(
        self,
        interaction: discord.Interaction,
        command: Command,
        message: ChatMessage,
        ephemeral: bool,
    ) -> None:
        task = asyncio.create_task(self.orchestrator.handle(message))
        wait = 0 if command.slow else DEFER_AFTER
        done, _ = await asyncio.wait({task}, timeout=wait) if wait else (set(), set())
        if not done:
            await interaction.response.defer(thinking=True, ephemeral=ephemeral)
        try:
            replies = await task
        except Exception:  # noqa: BLE001 - handle() never raises; belt and braces for the bot
            log.exception("discord_command_failed command=%s", command.name)
            replies = [Reply(ERROR_TEXT, ReplyKind.ERROR)]
        await self.followup(interaction, replies, ephemeral=ephemeral)

    async def followup(
        self, interaction: discord.Interaction, replies: Sequence[Reply], ephemeral: bool = False
    ) -> None:
        for reply in replies:
            parts = render(reply)
            private = ephemeral or reply.ephemeral
            for index, part in enumerate(parts):
                view = (
                    ConfirmView(self, reply, str(getattr(interaction.channel, "id", "")))
                    if reply.choices and index == len(parts) - 1
                    else None
                )
                kwargs: dict[str, Any] = {"ephemeral": private}
                if view is not None:
                    kwargs["view"] = view
                if not interaction.response.is_done():
                    await interaction.response.send_message(part, **kwargs)
                else:
                    await interaction.followup.send(part, **kwargs)


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


def create_bot(settings: DiscordSettings, orchestrator: Orchestrator) -> OrchestratorBot:
    """The client, unstarted, so tests and tools can drive it."""
    return OrchestratorBot(settings, orchestrator)


def run_discord(config: Config) -> int:
    """`orchestrator run discord`: connect to the gateway until interrupted."""
    settings = config.bots.discord
    if not settings.token:
        log.error("discord_not_configured hint=set DISCORD_BOT_TOKEN and bots.discord.token")
        return 2
    orchestrator = build_orchestrator(config)

    async def main() -> None:
        await orchestrator.start()
        if orchestrator.services.embedder is not None:  # load the model before receiving
            await orchestrator.services.embedder.embed(["warm up"])
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
