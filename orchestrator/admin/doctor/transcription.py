"""`doctor`'s transcription check: half a second of silence sent to the configured endpoint."""

from __future__ import annotations

import io
import wave

from orchestrator.admin.doctor.base import Finding, fail, ok
from orchestrator.config import Config
from orchestrator.media.errors import TranscriptionFailed
from orchestrator.media.transcribe import SILENCE_TEXT, Transcriber


def silence_wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(rate * seconds))
    return buffer.getvalue()


async def check_transcription(config: Config) -> list[Finding]:
    settings = config.transcription
    if settings is None:
        return [ok("transcription", "not configured: voice messages get a reply saying how")]
    transcriber = Transcriber(settings)
    try:
        await transcriber.transcribe("doctor.wav", "audio/wav", silence_wav())
    except TranscriptionFailed as exc:
        if str(exc) != SILENCE_TEXT:  # silence heard as silence: it works
            return [
                fail(
                    "transcription",
                    f"{settings.base_url}: {exc}",
                    "check transcription.base_url, api_key and model (README: Files, photos "
                    "and voice)",
                )
            ]
    finally:
        await transcriber.close()
    return [ok("transcription", f"{settings.base_url} transcribes with {settings.model}")]
