"""Why a file was not read; each message is the reply the person sees."""

from __future__ import annotations


class FileRefused(Exception):
    """A file we will not read (too large, a type we do not read, unreadable); str() is the
    reply for the chat."""


class TranscriptionFailed(FileRefused):
    """The transcription endpoint failed or is not configured."""
