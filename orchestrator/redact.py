"""Keep secrets (every config value that came from the environment) out of logs and replies."""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "***"


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first so a secret containing another is masked whole; short values are skipped
        # because masking "1" or "on" everywhere would garble text without protecting anything.
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the fully formatted message."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redactor(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Tracebacks can carry URLs and arguments: format once, masked.
            record.exc_text = self.redactor(logging.Formatter().formatException(record.exc_info))
        return True
