"""Voice and audio to text through an OpenAI-compatible `/audio/transcriptions` endpoint
(OpenAI, whisper.cpp's server, faster-whisper-server ...), with the official `openai` client.

Adapters call `transcribe` once per message, before the core: the transcript is then handled
like typed text. Without a `transcription:` section, or when the server fails, FileRefused
carries the reply the person sees.
"""

from __future__ import annotations

import logging
import posixpath
import time

import openai

from orchestrator.config.media import TranscriptionSettings
from orchestrator.media.errors import TranscriptionFailed

log = logging.getLogger(__name__)

# The file types OpenAI's endpoint accepts (whisper.cpp and faster-whisper take these too).
AUDIO_EXTENSIONS = {".flac", ".mp3", ".mp4", ".mpeg", ".mpga", ".m4a", ".ogg", ".oga", ".opus",
                    ".wav", ".webm"}  # fmt: skip
AUDIO_MIMES = {"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a",
               "audio/x-m4a": ".m4a", "audio/wav": ".wav", "audio/x-wav": ".wav",
               "audio/webm": ".webm", "audio/flac": ".flac", "audio/opus": ".ogg"}  # fmt: skip
SILENCE_TEXT = "I heard no words in that audio."
NOT_CONFIGURED_TEXT = (
    "I can't listen to voice messages yet: an admin can add a `transcription:` section "
    "(base_url, api_key, model) to the config, for OpenAI or a local whisper server. Meanwhile, "
    "please type it."
)


def audio_name(name: str, mime: str) -> str:
    """A file name whose extension the endpoint recognises (Telegram voice notes have none);
    TranscriptionFailed for a type it does not take."""
    stem, ext = posixpath.splitext(name or "voice")
    ext = ext.lower()
    if ext in AUDIO_EXTENSIONS:
        return f"{stem}{ext}"
    if mime in AUDIO_MIMES:
        return f"{stem}{AUDIO_MIMES[mime]}"
    raise TranscriptionFailed(
        f"I can't transcribe {name or 'that audio'} ({mime or 'unknown type'}): send OGG, MP3, "
        "M4A, WAV, WEBM or FLAC audio."
    )


class Transcriber:
    """One endpoint; `transcribe` returns the text or raises TranscriptionFailed."""

    def __init__(self, settings: TranscriptionSettings | None) -> None:
        self.settings = settings
        self._client = (
            openai.AsyncOpenAI(
                api_key=settings.api_key or "not-needed",
                base_url=settings.base_url,
                timeout=settings.timeout_seconds,
                max_retries=1,  # a refused connection or a 5xx; a transcript is idempotent
            )
            if settings is not None
            else None
        )

    @property
    def configured(self) -> bool:
        return self._client is not None

    async def transcribe(self, name: str, mime: str, data: bytes) -> str:
        if self._client is None or self.settings is None:
            raise TranscriptionFailed(NOT_CONFIGURED_TEXT)
        filename = audio_name(name, mime)
        started = time.monotonic()
        language = self.settings.language or openai.omit
        try:
            result = await self._client.audio.transcriptions.create(
                model=self.settings.model,
                file=(filename, data, mime or "application/octet-stream"),
                response_format="json",
                language=language,
            )
        except openai.APIStatusError as exc:
            log.warning("transcription_failed status=%d", exc.status_code)
            raise TranscriptionFailed(
                f"The transcription server refused that audio (HTTP {exc.status_code}); "
                "please type your message."
            ) from None
        except openai.APIError as exc:
            log.warning("transcription_failed error=%s", type(exc).__name__)
            raise TranscriptionFailed(
                "The transcription server is not answering right now; please type your message "
                "or try again later."
            ) from None
        text = (result.text or "").strip()
        log.info(
            "transcribed bytes=%d chars=%d ms=%d",
            len(data),
            len(text),
            (time.monotonic() - started) * 1000,
        )
        if not text:
            raise TranscriptionFailed(SILENCE_TEXT)
        return text

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
