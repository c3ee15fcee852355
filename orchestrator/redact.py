"""Keep secrets out of logs and replies: every secret value is masked wherever it appears.

Which values are secrets is decided by the config model (`orchestrator.config.secrets`); this
module only finds them as substrings, in plain text and as they look inside a JSON string.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

MASK = "***"
MIN_SECRET_CHARS = 6  # masking "1" or "on" everywhere would garble text and protect nothing


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these too (a reload's new secrets; the old ones stay masked)."""
        plain = {s for s in secrets if len(s) >= MIN_SECRET_CHARS}
        escaped = {json.dumps(s)[1:-1] for s in plain}  # a quote or backslash escaped in JSON
        # Longest first so a secret containing another is masked whole.
        self._secrets = sorted(set(self._secrets) | plain | escaped, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


class RedactingFormatter(logging.Formatter):
    """Formats with `inner`, then masks secrets in the whole output, so message, fields and
    traceback are covered in every format (key=value and JSON alike)."""

    def __init__(self, inner: logging.Formatter, redactor: Redactor) -> None:
        super().__init__()
        self.inner, self.redactor = inner, redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(self.inner.format(record))


def add_log_secrets(secrets: Iterable[str]) -> None:
    """After a reload: the process's log handlers mask the new config's secrets too."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, RedactingFormatter):
            handler.formatter.redactor.add(secrets)
