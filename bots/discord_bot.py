"""The Discord backend (discord.py 2.x): mentions and replies in guilds, DMs, slash commands.

Slash commands are built from the core's command registry, one declaration for every platform.
Interactions are deferred whenever the work may outlast Discord's 3-second deadline, then
answered by follow-up; admin-only commands answer ephemerally. Markdown passes through, split
at 2,000 characters with every code block closed in each part.

Exactly once: each message is claimed and recorded before any work (`Inflight`), its replies
are saved once computed and each part is recorded once sent, so a request cut off by a crash
is resumed once after the next start (from the Redis record, through the HTTP API) and sends
only what is missing. A send that times out is checked against the channel's recent messages
before anything is sent again; a resend carries the same nonce, which Discord enforces.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import secrets
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
from discord import app_commands

from bots.discord_confirm import ConfirmView, member_is_admin
from bots.discord_files import DiscordFiles, send_file
from bots.discord_parts import command_text, keep_typing, render
from bots.discord_reactions import discord_reactions, reactor
from bots.discord_resume import message_from_payload, message_payload
from bots.discord_threads import (
    conversation_of,
    gone_text,
    open_thread,
    thread_refused,
    wants_thread,
)
from orchestrator.app import build_orchestrator
from orchestrator.commands.registry import Command
from orchestrator.config import Config, DiscordSettings
from orchestrator.core import Orchestrator
from orchestrator.delivery.base import InboundRequest, replies_from_data
from orchestrator.delivery.in_process import InProcessDeliveryStore
from orchestrator.delivery.inflight import Inflight, given_up
from orchestrator.delivery.ordering import KeyedSequencer
from orchestrator.mcp.questions import is_answer
from orchestrator.media.long_answers import long_answers_as_files
from orchestrator.messages import ChatMessage, Reply, ReplyKind

log = logging.getLogger(__name__)

PLATFORM = "discord"
DEFER_AFTER = 1.0  # seconds of work before an interaction is deferred
ERROR_TEXT = "Sorry, something went wrong."
GAVE_UP_TEXT = "Sorry, I was restarted twice while working on this; please ask again."
UNKNOWN = "unknown"  # a part whose send timed out and could not be confirmed: never resent
HISTORY_LIMIT = 25  # recent messages read to confirm a send that timed out
SAME_SEND = timedelta(seconds=60)  # how far back a timed-out send's copy may be dated (skew)
Reference = discord.Message | discord.MessageReference


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
        self.store = store
        self.order = KeyedSequencer()
        self._recovering = False
        self.files = DiscordFiles(lambda: self.orchestrator.config)
        self.reactions = discord_reactions(orchestrator)
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

    # -- messages -----------------------------------------------------------------------------
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

    async def on_message(self, message: discord.Message) -> None:
        """Answer once (a gateway replay of the same message is dropped), in this person's
        order; if anything fails, say so briefly rather than stay silent."""
        if not self.addressed(message):  # kept as conversation context (not our own posts)
            if self.user is not None and message.author.id != self.user.id:
                seen = self.chat_message(
                    message.author, message.channel, message.content, str(message.id)
                )
                await self.orchestrator.observe(seen)
            return
        text = self.strip_mention(message.content)
        media = bool(message.attachments)
        if not text and not media:
            return
        chat_message = self.chat_message(message.author, message.channel, text, str(message.id))
        refusal = await self.orchestrator.admit(chat_message)  # a flood is refused as it floods
        if refusal is not None:
            if refusal:
                await self.post(message.channel, refusal, reference=message)
            return
        react = reactor(message, self.user)
        if not media and await self.orchestrator.hand_off(chat_message):
            self.reactions.taken(chat_message, react)  # a worker sets ✅ / ❌
            return  # a front end: a worker answers
        turn: AbstractAsyncContextManager[Any] = (
            contextlib.nullcontext()  # a server's question: the asker's request waits on it
            if is_answer(chat_message.text)
            else self.order.turn(f"{chat_message.conversation_key}:{chat_message.user_id}")
        )
        key = f"{PLATFORM}:message:{message.id}"
        payload = message_payload(message.channel.id, chat_message, files=media)
        if not await self.inflight.begin(key, payload):
            async with turn:
                return
        try:
            async with turn:
                taken = self.reactions.taken(chat_message, react)  # 👀, then ✅ or ❌
                if media:  # read (transcribe) once: a replay was dropped by `begin` above
                    read = await self.files.read(message, chat_message)
                    if isinstance(read, Reply):
                        await self.post(message.channel, [read], reference=message, key=key)
                        self.reactions.ended(taken, chat_message, [read], react)
                        return
                    chat_message = read
                    if await self.orchestrator.hand_off(chat_message):
                        return
                replies = await self._answer(key, message.channel, chat_message, message)
                self.reactions.ended(taken, chat_message, replies, react)
        finally:
            await self.inflight.end(key)

    async def resume(self, request: InboundRequest) -> None:
        """Answer a message a dead process had recorded but not finished, once: reuse its
        computed replies, skip the parts it sent, reply to the original message by id."""
        try:
            payload = request.payload
            if payload.get("kind") != "message":
                # An interaction's token is not kept (it is a credential), so it cannot be
                # answered any more; a fresh command is the user's to give.
                log.warning("request_not_resumed platform=%s key=%s", PLATFORM, request.key)
                return
            channel_id = int(payload["channel"])
            channel = self.get_channel(channel_id) or await self.fetch_channel(channel_id)
            chat_message = self.orchestrator.in_conversation(message_from_payload(payload))
            original = discord.MessageReference(
                message_id=int(payload["message_id"]),
                channel_id=channel_id,
                fail_if_not_exists=False,
            )
            async with self.order.turn(f"{chat_message.conversation_key}:{chat_message.user_id}"):
                if payload.get("files") and request.replies is None:  # read them again
                    read = await self.files.reread(channel, chat_message)
                    if isinstance(read, Reply):
                        await self.post(channel, [read], reference=original, key=request.key)  # type: ignore[arg-type]
                        return
                    chat_message = read
                await self._answer(request.key, channel, chat_message, original, request)
        finally:
            await self.inflight.end(request.key)

    async def _answer(
        self,
        key: str,
        channel: Any,
        chat_message: ChatMessage,
        reference: Reference,
        prior: InboundRequest | None = None,
    ) -> list[Reply]:
        typing = asyncio.create_task(keep_typing(channel))
        try:
            try:
                if prior is not None and given_up(prior):
                    replies = [Reply(GAVE_UP_TEXT, ReplyKind.ERROR)]
                elif prior is not None and prior.replies is not None:
                    replies = replies_from_data(prior.replies)
                else:
                    replies = await self.orchestrator.handle(chat_message, admitted=True)
                    await self.store.save_replies(key, replies)
            finally:
                typing.cancel()
            sent = prior.sent if prior is not None else {}
            thread = await self.thread_for(channel, chat_message, replies)
            answer_to: Reference | None = reference if thread is None else None
            channel = thread or channel
            try:
                await self.post(channel, replies, reference=answer_to, key=key, sent=sent)
            except discord.HTTPException as exc:
                reason = thread_refused(exc) if chat_message.thread_id else None
                if reason is None:
                    raise
                await self.post_in_parent(key, channel, chat_message, replies, reason)
            return replies
        except Exception as exc:  # noqa: BLE001 - the user gets a short answer, the log the rest
            log.exception(
                "discord_message_failed channel=%s error=%s",
                chat_message.chat_id,
                type(exc).__name__,
            )
            with contextlib.suppress(discord.DiscordException):
                await channel.send(ERROR_TEXT)
            return [Reply(ERROR_TEXT, ReplyKind.ERROR)]

    async def post(
        self,
        channel: discord.abc.Messageable,
        replies: Sequence[Reply],
        reference: Reference | None = None,
        *,
        key: str | None = None,
        sent: dict[str, str] | None = None,
    ) -> None:
        """Post each part once: parts in `sent` are skipped, each new one is recorded under
        `key`. The first part posted replies to `reference`."""
        limit = self.orchestrator.config.files.answer_as_file_after_parts
        replies = long_answers_as_files(replies, limit, lambda t: len(render(Reply(t))))
        for r_index, reply in enumerate(replies):
            parts = render(reply)
            for index, part in enumerate(parts):
                part_id = f"{r_index}.{index}"
                if sent and part_id in sent:
                    continue
                view = (
                    ConfirmView(self, reply, conversation_of(channel)[0])
                    if reply.choices and index == len(parts) - 1
                    else None
                )
                kwargs: dict[str, Any] = {"view": view} if view else {}
                if reference is not None:
                    kwargs.update(reference=reference, mention_author=False)
                    reference = None
                message = await self.send_once(channel, part, **kwargs)
                if key is not None:
                    ref = str(message.id) if message is not None else UNKNOWN
                    await self.store.mark_sent(key, part_id, ref)
            for f_index, file in enumerate(reply.files):  # a tool's images and files
                if not (sent and f"{r_index}.f{f_index}" in sent):
                    posted = await send_file(channel, file, self.settings.send_timeout_seconds)
                    if key is not None:
                        await self.store.mark_sent(key, f"{r_index}.f{f_index}", posted or UNKNOWN)

    async def send_once(
        self, channel: discord.abc.Messageable, content: str, **kwargs: Any
    ) -> discord.Message | None:
        """Send one message; after a timeout, look for it in the channel before sending again.

        The nonce is enforced by Discord (a second send with it within minutes returns the
        first message instead of posting a new one), so the one resend cannot double-post.
        None: the send timed out and could not be confirmed either way (logged, not resent).
        """
        nonce = secrets.token_hex(12)  # Discord allows up to 25 characters
        since = datetime.now(UTC)
        timeout = self.settings.send_timeout_seconds
        channel_id = getattr(channel, "id", "")
        try:
            return await asyncio.wait_for(channel.send(content, nonce=nonce, **kwargs), timeout)
        except TimeoutError:
            log.warning("discord_send_timeout channel=%s action=check", channel_id)
        try:
            found = await self.find_sent(channel, content, nonce, since)
        except discord.DiscordException as exc:
            log.warning(
                "discord_send_unconfirmed channel=%s error=%s action=not_resent",
                channel_id,
                type(exc).__name__,
            )
            return None
        if found is not None:
            log.info("discord_send_confirmed channel=%s message=%s", channel_id, found.id)
            return found
        try:
            message = await asyncio.wait_for(channel.send(content, nonce=nonce, **kwargs), timeout)
        except TimeoutError:
            log.warning("discord_send_timeout channel=%s action=not_resent", channel_id)
            return None
        log.info("discord_send_resent channel=%s message=%s", channel_id, message.id)
        return message

    async def find_sent(
        self, channel: discord.abc.Messageable, content: str, nonce: str, since: datetime
    ) -> discord.Message | None:
        """Our own message among the channel's latest: by nonce, or by content and time (the
        message list may leave the nonce out)."""
        assert self.user is not None
        async for message in channel.history(limit=HISTORY_LIMIT):
            if message.author.id != self.user.id:
                continue
            if message.nonce is not None and str(message.nonce) == nonce:
                return message
            if message.content == content and message.created_at >= since - SAME_SEND:
                return message
        return None

    async def thread_for(
        self, channel: Any, message: ChatMessage, replies: Sequence[Reply]
    ) -> discord.Thread | None:
        """A thread to answer in, when this channel opens one for long answers and plans."""
        policy = self.orchestrator.config.policy_for(message.chat_key)
        if not policy.open_threads or not message.message_id:
            return None
        if not wants_thread(channel, replies, render):
            return None
        return await open_thread(channel, int(message.message_id), message.text)

    async def post_in_parent(
        self, key: str, thread: Any, message: ChatMessage, replies: Sequence[Reply], reason: str
    ) -> None:
        """The thread refused the answer (archived and locked, or deleted): say so in its
        channel and answer there; the parts already sent in the thread are not sent again."""
        log.warning("discord_thread_refused thread=%s reason=%s", message.thread_id, reason)
        parent = self.get_channel(int(message.chat_id)) or await self.fetch_channel(
            int(message.chat_id)
        )
        note = gone_text(str(getattr(thread, "name", "") or ""), reason)
        record = await self.store.get(key)
        sent = record.sent if record is not None else {}
        await self.post(parent, [Reply(note, ReplyKind.NOTICE)])  # type: ignore[arg-type]
        await self.post(parent, replies, key=key, sent=sent)  # type: ignore[arg-type]

    async def send(
        self, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> None:
        """ChatAdapter: post into a channel or one of its threads (scheduled runs)."""
        target = int(thread_id or chat_id)
        channel = self.get_channel(target) or await self.fetch_channel(target)
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
        if not await self.inflight.begin(key, {"kind": "interaction", "command": text}):
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
                    ConfirmView(self, reply, conversation_of(interaction.channel)[0])
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
        await orchestrator.start()  # loads the embedding model too, before receiving
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
