"""Where audit records go: a rotating JSON-lines file, or a Redis stream when Redis is configured.

Both are standard logging handlers behind a `QueueHandler`, so the event loop only enqueues and a
listener thread does the disk or network write.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from orchestrator.audit import AUDIT_LOGGER
from orchestrator.config import Config
from orchestrator.redact import Redactor

log = logging.getLogger(__name__)


def audit_stream_key(prefix: str) -> str:
    return f"{prefix}:audit"


def record_of(record: logging.LogRecord) -> dict[str, Any] | None:
    doc = getattr(record, "audit", None)
    return doc if isinstance(doc, dict) else None


class JsonLineFormatter(logging.Formatter):
    """The audit record alone, as one JSON line, secrets masked."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(json.dumps(record_of(record) or {"message": record.getMessage()}))


class RedisStreamHandler(logging.Handler):
    """`XADD <prefix>:audit MAXLEN ~ n * record <json>` per record; a sync client, run in the
    queue listener's thread."""

    def __init__(self, url: str, key: str, max_len: int, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.key, self.max_len = key, max_len
        self.redactor = redactor or Redactor()

    def emit(self, record: logging.LogRecord) -> None:
        doc = record_of(record)
        if doc is None:
            return
        try:
            line = self.redactor(json.dumps(doc))
            self.client.xadd(self.key, {"record": line}, maxlen=self.max_len, approximate=True)
        except Exception:  # noqa: BLE001 - the trail must never break the bot
            self.handleError(record)

    def close(self) -> None:
        self.client.close()
        super().close()


def uses_redis(config: Config) -> bool:
    backend = config.audit.backend
    return backend == "redis" or (
        backend == "auto" and config.sessions.backend == "redis" and bool(config.sessions.url)
    )


def make_audit_handler(config: Config) -> logging.Handler:
    """The configured sink as a plain (blocking) handler."""
    settings = config.audit
    if uses_redis(config):
        if not config.sessions.url:
            raise ValueError("audit.backend redis needs sessions.url")
        return RedisStreamHandler(
            config.sessions.url,
            audit_stream_key(config.sessions.key_prefix),
            settings.stream_max_len,
            Redactor(config.secrets),
        )
    path = Path(settings.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=settings.max_bytes, backupCount=settings.backup_count, encoding="utf-8"
    )
    handler.setFormatter(JsonLineFormatter(Redactor(config.secrets)))
    return handler


class AuditSink:
    """The installed sink: `close()` flushes the queue and detaches it."""

    def __init__(self, handler: logging.Handler) -> None:
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._front = logging.handlers.QueueHandler(self._queue)
        self._listener = logging.handlers.QueueListener(self._queue, handler)
        self._handler = handler
        self._listener.start()
        logging.getLogger(AUDIT_LOGGER).addHandler(self._front)

    def close(self) -> None:
        logging.getLogger(AUDIT_LOGGER).removeHandler(self._front)
        self._listener.stop()
        self._handler.close()


def install_audit_sink(config: Config) -> AuditSink | None:
    """Attach the configured sink to the audit logger (None when the trail is off)."""
    if not config.audit.enabled:
        return None
    sink = AuditSink(make_audit_handler(config))
    log.info("audit_sink_installed backend=%s", "redis" if uses_redis(config) else "file")
    return sink


@contextmanager
def audit_trail(config: Config) -> Iterator[AuditSink | None]:
    """The sink of one process, for its lifetime: every process that runs the orchestrator
    (a platform adapter, the console, a queue worker) enters this, so tool calls, schedule
    runs and admin actions reach the trail whichever process does them."""
    sink = install_audit_sink(config)
    try:
        yield sink
    finally:
        if sink is not None:
            sink.close()
