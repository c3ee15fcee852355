"""One log line per event, key=value or JSON, on stderr, with secrets masked."""

from __future__ import annotations

import json
import logging
import sys

from orchestrator.config import LoggingSettings
from orchestrator.redact import RedactingFormatter, Redactor


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event, _, rest = record.getMessage().partition(" ")
        doc = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "event": event,
        }
        for pair in rest.split():
            key, sep, value = pair.partition("=")
            if sep:
                doc[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exc"] = record.exc_text
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        return json.dumps(doc)


def make_formatter(settings: LoggingSettings) -> logging.Formatter:
    """The configured format, before redaction."""
    if settings.format == "json":
        return JsonFormatter()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")


def configure_logging(
    settings: LoggingSettings, redactor: Redactor, *, quiet: bool = False
) -> None:
    """Install one stderr handler. `quiet` (console chat) shows warnings and errors only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(make_formatter(settings), redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel("WARNING" if quiet else settings.level)
    for noisy in (
        "httpx",
        "httpcore",
        "chromadb",
        "mcp",
        "sentence_transformers",
        "discord",
        "telegram",
        "apscheduler",
    ):
        logging.getLogger(noisy).setLevel("WARNING")
