"""Hostile POSTs to the webhook (issue 27): the webhook route on the process's ASGI app, served by
uvicorn with each of its HTTP parsers (h11, httptools), and python-telegram-bot against the fake
Bot API, driven by a raw HTTP client that controls every byte it sends."""

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
from orchestrator.web.server import HttpProtocol
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import chat_orchestrator

SECRET = "s3cret"
HUGE = 95 * 1024 * 1024
CHUNK = b"x" * 65536

pytestmark = pytest.mark.parametrize("protocol", ["h11", "httptools"])


@asynccontextmanager
async def webhook(protocol: HttpProtocol) -> AsyncIterator[int]:
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
            async with webhook_server(app, hook, health, port=0, protocol=protocol) as port:
                yield port
        finally:
            await orchestrator.stop()


TOO_LARGE = f"telegram_webhook_rejected reason=body_too_large limit={MAX_BODY_BYTES}"


def rejections(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "bots.telegram.webhook"]
    return [m for m in lines if "rejected" in m]


def head(length: int | None, secret: str | None) -> bytes:
    """The request's head; `length=None`: a chunked body."""
    lines = [
        "POST /hook HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked",
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


async def test_huge_post_without_secret_is_refused_before_its_body_is_read(
    protocol: HttpProtocol, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.telegram.webhook")
    async with webhook(protocol) as port:
        before = rss_bytes()
        results = await asyncio.gather(*(huge_post_without_secret(port) for _ in range(6)))
        grown = rss_bytes() - before
    for status, sent in results:
        assert status == 403
        # the server closed the connection: the client could not push the 95 MB through
        assert sent < 32 * 1024 * 1024, sent
    assert grown < 64 * 1024 * 1024, f"RSS grew {grown / 1e6:.0f} MB"
    assert rejections(caplog) == ["telegram_webhook_rejected reason=secret_token"] * 6


async def test_body_over_the_limit_with_the_secret_is_refused_from_its_length(
    protocol: HttpProtocol, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.telegram.webhook")
    async with webhook(protocol) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(MAX_BODY_BYTES + 1, secret=SECRET))
        await writer.drain()
        assert await status_of(reader) == 413
        writer.close()
    assert rejections(caplog) == [TOO_LARGE]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe", b"[1, 2]", b'{"hello": "world"}', b'{"update_id": "7"}'],
)
async def test_body_that_is_not_an_update_gets_400_and_one_log_line(
    body: bytes, caplog: pytest.LogCaptureFixture, protocol: HttpProtocol
) -> None:
    caplog.set_level(logging.INFO, logger="bots.telegram.webhook")
    async with webhook(protocol) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(len(body), secret=SECRET) + body)
        await writer.drain()
        assert await status_of(reader) == 400
        writer.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "bots.telegram.webhook"]
    assert [m for m in lines if "rejected" in m] == [
        f"telegram_webhook_rejected reason=not_an_update bytes={len(body)}"
    ]


async def test_a_real_update_still_goes_through(protocol: HttpProtocol) -> None:
    update = json.dumps({"update_id": 9, "message": None}).encode()
    async with webhook(protocol) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(len(update), secret=SECRET) + update)
        await writer.drain()
        assert await status_of(reader) == 200
        writer.close()


async def chunked_post_with_secret(port: int) -> tuple[int | None, int]:
    """Stream a 95 MB chunked body (no declared length) with the right secret while reading
    the answer. Returns (status, or None when none came; bytes the client managed to write)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(None, secret=SECRET))
    answer = asyncio.create_task(status_of(reader))
    frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
    sent = 0
    try:
        while sent < HUGE:  # on past the answer: only a closed connection stops it
            writer.write(frame)
            await asyncio.wait_for(writer.drain(), 10)
            sent += len(CHUNK)
    except (ConnectionError, TimeoutError):
        pass
    try:
        status: int | None = await answer
    except (ConnectionError, ValueError, IndexError):
        status = None
    writer.close()
    return status, sent


async def test_chunked_body_is_read_only_up_to_the_limit_then_refused(
    caplog: pytest.LogCaptureFixture, protocol: HttpProtocol
) -> None:
    caplog.set_level(logging.INFO, logger="bots.telegram.webhook")
    async with webhook(protocol) as port:
        status, sent = await chunked_post_with_secret(port)
    assert status == 413
    assert sent < 32 * 1024 * 1024, sent
    assert rejections(caplog) == [TOO_LARGE]
