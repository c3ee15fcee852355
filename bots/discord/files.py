"""Files and voice on Discord (issue 31): attachments in (documents, images, voice and audio),
a tool's images and files out as attachments.

Sizes are checked from the attachment's metadata before anything is downloaded; whatever cannot
be read becomes one clear reply instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import posixpath
from collections.abc import Callable
from typing import Any

import discord

from orchestrator.config import Config
from orchestrator.media.documents import (
    SUPPORTED,
    check_size,
    document_type,
    image_type,
    read_document,
)
from orchestrator.media.errors import FileRefused
from orchestrator.media.transcribe import AUDIO_EXTENSIONS, Transcriber
from orchestrator.messages import Attachment, ChatMessage, OutFile, Reply, ReplyKind

log = logging.getLogger(__name__)

MAX_ATTACHMENTS = 5
LOST_TEXT = "I was restarted while reading your file and can't find it now; please send it again."


def is_audio(attachment: discord.Attachment) -> bool:
    kind = attachment.content_type or ""
    ext = posixpath.splitext(attachment.filename.lower())[1]
    return kind.startswith("audio/") or attachment.is_voice_message() or ext in AUDIO_EXTENSIONS


class DiscordFiles:
    """Reads a message's attachments into its ChatMessage (or a reply saying why not)."""

    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config
        self._transcriber: tuple[object, Transcriber] | None = None

    def transcriber(self, config: Config) -> Transcriber:
        if self._transcriber is None or self._transcriber[0] is not config.transcription:
            self._transcriber = (config.transcription, Transcriber(config.transcription))
        return self._transcriber[1]

    async def read(self, message: discord.Message, base: ChatMessage) -> ChatMessage | Reply:
        config = self._config()
        try:
            for attachment in message.attachments[:MAX_ATTACHMENTS]:
                base = await self._one(attachment, base, config)
        except FileRefused as exc:
            log.info("discord_file_refused channel=%s reason=%s", base.chat_id, str(exc)[:120])
            return Reply(str(exc), ReplyKind.ERROR)
        return base

    async def reread(self, channel: Any, base: ChatMessage) -> ChatMessage | Reply:
        """A resumed request's files, read again from its message (a dead process had them)."""
        try:
            message = await channel.fetch_message(int(base.message_id or 0))
        except discord.DiscordException as exc:
            log.warning("discord_refetch_failed message=%s error=%s", base.message_id, exc)
            return Reply(LOST_TEXT, ReplyKind.ERROR)
        return await self.read(message, base)

    async def _one(
        self, attachment: discord.Attachment, base: ChatMessage, config: Config
    ) -> ChatMessage:
        name, mime, limit = (
            attachment.filename,
            attachment.content_type or "",
            config.files.max_bytes,
        )
        check_size(name, attachment.size, limit)
        if is_audio(attachment):
            transcriber = self.transcriber(config)
            if not transcriber.configured:
                await transcriber.transcribe(name, mime, b"")  # raises: how to enable it
            text = await transcriber.transcribe(name, mime, await _download(attachment))
            spoken = f"{base.text}\n{text}".strip() if base.text else text
            return dataclasses.replace(base, text=spoken, transcribed=True)
        kind = image_type(name, mime.split(";")[0])
        if kind is not None:
            image = Attachment("image", name, kind, data=await _download(attachment))
            return dataclasses.replace(base, attachments=(*base.attachments, image))
        if document_type(name, mime.split(";")[0]) is None:
            raise FileRefused(f"I can't read {name}: I read {SUPPORTED} files.")
        text = read_document(name, mime.split(";")[0], await _download(attachment), limit)
        doc = Attachment("document", name, mime, text=text)
        return dataclasses.replace(base, attachments=(*base.attachments, doc))


async def _download(attachment: discord.Attachment) -> bytes:
    try:
        return await attachment.read()
    except discord.DiscordException as exc:
        log.warning("discord_download_failed name=%s error=%s", attachment.filename, exc)
        raise FileRefused(f"I couldn't download {attachment.filename} from Discord.") from None


async def send_file(channel: discord.abc.Messageable, file: OutFile, timeout: float) -> str | None:
    """A tool's image or file as an attachment; the message id, or None when the send timed out
    (maybe delivered: never sent again)."""
    upload = discord.File(io.BytesIO(file.data), filename=file.name)
    try:
        sent = await asyncio.wait_for(channel.send(file=upload), timeout)
    except TimeoutError:
        log.warning("discord_file_timeout file=%s action=not_resent", file.name)
        return None
    return str(sent.id)
