"""Hostile POSTs to the webhook (issue 27): the real tornado webhook server and python-telegram-bot
against the fake Bot API, driven by a raw HTTP client that controls every byte it sends."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bots.telegram.app import create_application
from bots.telegram.webhook import MAX_BODY_BYTES, webhook_server
from orchestrator.config import TelegramSettings, WebhookSettings
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import chat_orchestrator

SECRET = "s3cret"
HUGE = 95 * 1024 * 1024
CHUNK = b"x" * 65536


@asynccontextmanager
async def webhook() -> AsyncIterator[int]:
    orchestrator = chat_orchestrator(with_time_server=False)
    async with FakeTelegram() as fake:
        hook = WebhookSettings(
            url="https://bot.example.com/hook", listen="127.0.0.1", secret_token=SECRET, path="hook"
        )
        settings = TelegramSettings(token=fake.token, base_url=fake.base_url, webhook=hook)
        app = create_application(settings, orchestrator)

        def health() -> tuple[bool, dict[str, Any]]:
            return True, {}

        await orchestrator.start()
        try:
            async with webhook_server(app, hook, health, port=0) as port:
                yield port
        finally:
            await orchestrator.stop()


def head(length: int, secret: str | None) -> bytes:
    lines = [
        "POST /hook HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {length}",
    ]
    if secret is not None:
        lines.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def status_of(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), 10)
    return int(line.split()[1])


async def huge_post_without_secret(port: int) -> tuple[int, int]:
    """Send only the headers of a 95 MB POST; read the answer; then try to send the body.
    Returns (status, body bytes the client managed to write before the server closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(HUGE, secret=None))
    await writer.drain()
    status = await status_of(reader)  # answered before a single body byte was sent
    sent = 0
    try:
        while sent < HUGE:
            writer.write(CHUNK)
            await asyncio.wait_for(writer.drain(), 10)
            sent += len(CHUNK)
    except (ConnectionError, TimeoutError):
        pass
    writer.close()
    return status, sent


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_huge_post_without_secret_is_refused_before_its_body_is_read() -> None:
    async with webhook() as port:
        before = rss_bytes()
        results = await asyncio.gather(*(huge_post_without_secret(port) for _ in range(6)))
        grown = rss_bytes() - before
    for status, sent in results:
        assert status == 403
        # the server closed the connection: the client could not push the 95 MB through
        assert sent < 32 * 1024 * 1024, sent
    assert grown < 64 * 1024 * 1024, f"RSS grew {grown / 1e6:.0f} MB"


async def test_body_over_the_limit_with_the_secret_is_refused_from_its_length() -> None:
    async with webhook() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(MAX_BODY_BYTES + 1, secret=SECRET))
        await writer.drain()
        assert await status_of(reader) == 413
        writer.close()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe", b"[1, 2]", b'{"hello": "world"}', b'{"update_id": "7"}'],
)
async def test_body_that_is_not_an_update_gets_400_and_one_log_line(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.telegram.webhook")
    async with webhook() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(len(body), secret=SECRET) + body)
        await writer.drain()
        assert await status_of(reader) == 400
        writer.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "bots.telegram.webhook"]
    assert [m for m in lines if "rejected" in m] == [
        f"telegram_webhook_rejected reason=not_an_update bytes={len(body)}"
    ]


async def test_a_real_update_still_goes_through() -> None:
    update = json.dumps({"update_id": 9, "message": None}).encode()
    async with webhook() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(len(update), secret=SECRET) + update)
        await writer.drain()
        assert await status_of(reader) == 200
        writer.close()
