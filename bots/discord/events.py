"""Messages in: each answered once (a gateway replay is dropped), in its sender's order,
with typing shown and 👀 then ✅ or ❌ on it; a message not addressed to the bot is kept as
conversation context.

Exactly once: each message is claimed and recorded before any work (`Inflight`), its replies
are saved once computed and each part is recorded once sent, so a request cut off by a crash
is resumed once after the next start (from the Redis record, through the HTTP API) and sends
only what is missing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any

import discord

from bots.discord.base import ERROR_TEXT, PLATFORM
from bots.discord.parts import keep_typing
from bots.discord.reactions import reactor
from bots.discord.resume import message_from_payload, message_payload
from bots.discord.sending import Reference, Sending
from bots.discord.threads import thread_refused
from orchestrator.delivery.base import InboundRequest, replies_from_data
from orchestrator.delivery.inflight import given_up
from orchestrator.mcp.questions import is_answer
from orchestrator.messages import ChatMessage, Reply, ReplyKind

log = logging.getLogger(__name__)

GAVE_UP_TEXT = "Sorry, I was restarted twice while working on this; please ask again."


class MessageEvents(Sending):
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
                    read = await self.typing_while(
                        message.channel, self.files.read(message, chat_message)
                    )
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

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An edited message is never answered (its original was, once); if it was kept as
        conversation context, the kept text becomes the edited one."""
        message = payload.message
        if self.user is None or message.author.bot or message.author.id == self.user.id:
            return
        edited = self.chat_message(
            message.author, message.channel, message.content, str(message.id)
        )
        revised = await self.orchestrator.observe_edit(edited)
        log.info(
            "discord_edit_not_answered channel=%s message=%s context_revised=%s",
            edited.chat_id,
            message.id,
            revised,
        )

    async def resume(self, request: InboundRequest) -> None:
        """Answer a message (or an accepted button press) a dead process had recorded but not
        finished, once: reuse its computed replies, skip the parts it sent, reply to the
        original message (a press: the question it answered) by id."""
        try:
            payload = request.payload
            kind = payload.get("kind")
            if kind not in ("message", "press"):
                # A slash command's or an unaccepted press's interaction: its token is not kept
                # (it is a credential), so it cannot be answered any more; a fresh command (or
                # press: its buttons stayed) is the user's to give.
                log.warning("request_not_resumed platform=%s key=%s", PLATFORM, request.key)
                return
            channel_id = int(payload["channel"])
            channel = self.get_channel(channel_id) or await self.fetch_channel(channel_id)
            chat_message = self.orchestrator.in_conversation(message_from_payload(payload))
            original = discord.MessageReference(
                message_id=int(payload["question" if kind == "press" else "message_id"]),
                channel_id=channel_id,
                fail_if_not_exists=False,
            )
            async with self.order.turn(f"{chat_message.conversation_key}:{chat_message.user_id}"):
                if payload.get("files") and request.replies is None:  # read them again
                    read = await self.typing_while(
                        channel, self.files.reread(channel, chat_message)
                    )
                    if isinstance(read, Reply):
                        await self.post(channel, [read], reference=original, key=request.key)  # type: ignore[arg-type]
                        return
                    chat_message = read
                await self._answer(request.key, channel, chat_message, original, request)
        finally:
            await self.inflight.end(request.key)

    async def typing_while(
        self, channel: Any, reading: Coroutine[Any, Any, ChatMessage | Reply]
    ) -> ChatMessage | Reply:
        """Files read (a voice note transcribed) with "typing..." shown in the channel or
        thread meanwhile."""
        typing = asyncio.create_task(keep_typing(channel))
        try:
            return await reading
        finally:
            typing.cancel()

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
