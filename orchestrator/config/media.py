"""Config for files and voice (issue 31): what documents, photos and voice messages may be."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.config.secrets import SECRET

Credential = Annotated[str | None, SECRET]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSettings(_Model):
    """Files people send: the largest read (Telegram bots may download up to 20 MB), and the
    share of the request a document's text may take (it is cut, and the model told, past it)."""

    max_bytes: int = Field(10_000_000, ge=1)
    document_tokens: int = Field(6000, ge=100)
    # An answer longer than this many platform messages goes as one Markdown file (None: never).
    answer_as_file_after_parts: int | None = Field(None, ge=1)


class TranscriptionSettings(_Model):
    """An OpenAI-compatible `/audio/transcriptions` endpoint (OpenAI, whisper.cpp's server,
    faster-whisper-server, ...): voice and audio messages become text before the core."""

    base_url: str = "https://api.openai.com/v1"
    api_key: Credential = None
    model: str = "whisper-1"
    language: str | None = None  # ISO-639-1 hint, e.g. "en"; None lets the server detect it
    timeout_seconds: float = Field(120, gt=0)

    @field_validator("api_key", "language", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value
