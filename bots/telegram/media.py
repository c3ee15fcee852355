"""Files and voice on Telegram (issue 31): documents, photos, voice and audio in; photos and
documents out.

A file's announced size is checked before anything is downloaded (getFile, then the file path);
documents are read to text, photos kept as bytes for a model that accepts images, voice and
audio transcribed once through the configured endpoint. Whatever cannot be read becomes one
clear reply instead.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from telegram import Bot, InputFile, Message, ReplyParameters
from telegram.error import BadRequest, TelegramError, TimedOut
from telegram.ext import filters

from bots.telegram.topics import TopicUnavailable, topic_refused
from orchestrator.config import Config
from orchestrator.media.documents import (
    SUPPORTED,
    check_size,
    document_type,
    image_type,
    read_document,
)
from orchestrator.media.errors import FileRefused
from orchestrator.media.transcribe import Transcriber
from orchestrator.messages import Attachment, ChatMessage, OutFile, Reply, ReplyKind

log = logging.getLogger(__name__)

MEDIA = (
    filters.Document.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
)
NO_VIDEO_TEXT = "I can't watch videos; send the audio as a voice message, or describe it in text."
PHOTO_MAX_BYTES = 10_000_000  # sendPhoto's limit; larger images go as documents


def has_media(message: Message) -> bool:
    return bool(
        message.document
        or message.photo
        or message.voice
        or message.audio
        or message.video
        or message.video_note
    )


class TelegramFiles:
    """Reads the file of a message into its ChatMessage (or a reply saying why not)."""

    def __init__(self, config: Any) -> None:
        self._config = config  # a callable: the running config (a reload may change it)
        self._transcriber: tuple[object, Transcriber] | None = None

    def transcriber(self, config: Config) -> Transcriber:
        settings = config.transcription
        if self._transcriber is None or self._transcriber[0] is not settings:
            self._transcriber = (settings, Transcriber(settings))
        return self._transcriber[1]

    async def read(self, bot: Bot, message: Message, base: ChatMessage) -> ChatMessage | Reply:
        config: Config = self._config()
        try:
            return await self._read(bot, message, base, config)
        except FileRefused as exc:
            log.info("telegram_file_refused chat=%s reason=%s", base.chat_id, str(exc)[:120])
            return Reply(str(exc), ReplyKind.ERROR)

    async def _read(
        self, bot: Bot, message: Message, base: ChatMessage, config: Config
    ) -> ChatMessage:
        limit = config.files.max_bytes
        if message.video or message.video_note:
            raise FileRefused(NO_VIDEO_TEXT)
        if message.voice or message.audio:
            media = message.voice or message.audio
            assert media is not None
            name = getattr(media, "file_name", None) or "voice"
            transcriber = self.transcriber(config)
            if not transcriber.configured:
                await transcriber.transcribe(name, "", b"")  # raises: how to enable it
            data = await _download(bot, media.file_id, name, media.file_size, limit)
            text = await transcriber.transcribe(name, media.mime_type or "", data)
            spoken = f"{base.text}\n{text}".strip() if base.text else text
            return dataclasses.replace(base, text=spoken, transcribed=True)
        if message.photo:
            photo = message.photo[-1]  # the largest size Telegram made
            data = await _download(bot, photo.file_id, "photo", photo.file_size, limit)
            image = Attachment("image", "photo.jpg", "image/jpeg", data=data)
            return dataclasses.replace(base, attachments=(*base.attachments, image))
        document = message.document
        assert document is not None
        name, mime = document.file_name or "file", document.mime_type or ""
        if image_type(name, mime):
            data = await _download(bot, document.file_id, name, document.file_size, limit)
            image = Attachment("image", name, image_type(name, mime) or mime, data=data)
            return dataclasses.replace(base, attachments=(*base.attachments, image))
        check_size(name, document.file_size, limit)
        if document_type(name, mime) is None:  # refused before it is downloaded
            raise FileRefused(f"I can't read {name}: I read {SUPPORTED} files.")
        data = await _download(bot, document.file_id, name, document.file_size, limit)
        text = read_document(name, mime, data, limit)
        doc = Attachment("document", name, mime, text=text)
        return dataclasses.replace(base, attachments=(*base.attachments, doc))


async def _download(bot: Bot, file_id: str, name: str, size: int | None, limit: int) -> bytes:
    check_size(name, size, limit)
    try:
        file = await bot.get_file(file_id)
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("telegram_download_failed name=%s error=%s", name, type(exc).__name__)
        raise FileRefused(f"I couldn't download {name} from Telegram ({exc}).") from None
    check_size(name, len(data), limit)
    return data


async def send_file(
    bot: Bot, chat_id: int, file: OutFile, reply_to: int | None, thread_id: int | None = None
) -> str | None:
    """A tool's image as a photo (sendPhoto), anything else as a document (sendDocument), into
    topic `thread_id`; the message id, or None when the send timed out (maybe delivered: never
    sent again). Raises TopicUnavailable when the topic is closed or gone."""
    params = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    try:
        sent = await upload(bot, chat_id, file, params, thread_id)
    except TimedOut:
        log.warning("telegram_file_timeout chat=%s file=%s action=not_resent", chat_id, file.name)
        return None
    except BadRequest as exc:
        if thread_id is not None and topic_refused(exc):
            log.warning("telegram_topic_unavailable chat=%s thread=%s", chat_id, thread_id)
            raise TopicUnavailable(str(exc)) from exc
        raise
    return str(sent.message_id)


async def upload(
    bot: Bot,
    chat_id: int,
    file: OutFile,
    params: ReplyParameters | None,
    thread_id: int | None = None,
) -> Message:
    """sendPhoto for an image Telegram takes as a photo, sendDocument for anything else; in a
    forum topic both carry its `message_thread_id`, as every other send does."""
    data = InputFile(file.data, filename=file.name)
    if file.is_image and len(file.data) <= PHOTO_MAX_BYTES:
        return await bot.send_photo(
            chat_id, data, reply_parameters=params, message_thread_id=thread_id
        )
    return await bot.send_document(
        chat_id, data, reply_parameters=params, message_thread_id=thread_id
    )
