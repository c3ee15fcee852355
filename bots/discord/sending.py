"""Posting replies on Discord, each part once: a send that times out is checked against the
channel's recent messages before anything is sent again, and a resend carries the same nonce,
which Discord enforces. Markdown passes through, split at 2,000 characters with every code block
closed in each part. A thread that refuses the answer (archived and locked, or deleted) sends it
to the parent channel; a channel with `open_threads` answers long replies in a new thread."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from bots.discord.confirm import ConfirmView
from bots.discord.files import send_file
from bots.discord.parts import render
from bots.discord.slash import SlashCommands
from bots.discord.threads import conversation_of, gone_text, open_thread, wants_thread
from orchestrator.media.long_answers import long_answers_as_files
from orchestrator.messages import ChatMessage, Reply, ReplyKind

log = logging.getLogger(__name__)

UNKNOWN = "unknown"  # a part whose send timed out and could not be confirmed: never resent
HISTORY_LIMIT = 25  # recent messages read to confirm a send that timed out
SAME_SEND = timedelta(seconds=60)  # how far back a timed-out send's copy may be dated (skew)
Reference = discord.Message | discord.MessageReference


class Sending(SlashCommands):
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

    async def send_private(self, user_id: str, replies: Sequence[Reply]) -> bool:
        """A direct message to one person (sign-in and form links, issue 32): the DM channel is
        opened (or found) with Create DM, then posted to like any channel. False when Discord
        refuses (the person accepts no direct messages from the server's members)."""
        try:
            channel = await self.create_dm(discord.Object(int(user_id)))
            await self.post(channel, replies)
        except discord.HTTPException as exc:
            log.warning("discord_private_failed user=%s error=%s", user_id, type(exc).__name__)
            return False
        return True
