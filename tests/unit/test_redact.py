"""Secrets never reach a log line, tracebacks included."""

from __future__ import annotations

import io
import logging

from orchestrator.redact import RedactingFormatter, Redactor

SECRET = "123456:telegram-secret-token"


def test_messages_arguments_and_tracebacks_are_masked() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(logging.Formatter(), Redactor([SECRET, "on"])))
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    try:
        log.warning("calling url=https://api.telegram.org/bot%s/getMe", SECRET)
        try:
            raise ConnectionError(f"failed https://api.telegram.org/bot{SECRET}/getMe")
        except ConnectionError:
            log.exception("start failed")
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert SECRET not in output
    assert output.count("***") >= 2 and "ConnectionError" in output
    assert "calling url" in output  # short values such as "on" are not masked everywhere
