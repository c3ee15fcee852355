"""Shared fixtures for the expensive real parts: Redis, the embedding model, MCP servers."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


SESSION_PREFIXES: list[str] = []  # every key prefix handed out in this test session


@pytest.fixture
def key_prefix() -> str:
    """A Redis key prefix of this test alone (tests delete their keys under it)."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    SESSION_PREFIXES.append(prefix)
    return prefix


@pytest.fixture(scope="session", autouse=True)
def default_redis_untouched(redis_url: str) -> Iterator[None]:
    """With REDIS_URL naming another Redis, no test may reach the one on 127.0.0.1:6379 (a
    default left in a config or a client): none of this session's keys may appear there."""
    import redis

    if ":6379" in redis_url:
        yield
        return
    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5)
    try:
        before = _keys(client)
    except redis.RedisError:  # nothing listens there: nothing to guard
        client.close()
        yield
        return
    yield
    ours = ("orch:", *(f"{p}:" for p in SESSION_PREFIXES))
    leaked = sorted(k for k in _keys(client) - before if k.startswith(ours))
    client.close()
    assert not leaked, f"tests wrote to the Redis on 6379, not REDIS_URL: {leaked[:10]}"


def _keys(client: Any) -> set[str]:
    return {k.decode(errors="replace") for k in client.scan_iter(count=1000)}


_LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(scope="session", autouse=True)
def no_network() -> Iterator[None]:
    """Tests talk to fakes on 127.0.0.1 only: a connect anywhere else fails loudly."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            if not host.startswith(_LOOPBACK) and host not in ("", "0.0.0.0", "::"):
                raise ConnectionRefusedError(f"tests may not reach the network: {address}")

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


@pytest.fixture
async def redis_client(redis_url: str, key_prefix: str) -> AsyncIterator[object]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    yield client
    keys = [k async for k in client.scan_iter(f"{key_prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real MiniLM model as the bot runs it (ONNX Runtime), loaded once per test session."""
    from orchestrator.embedding.onnx_minilm import OnnxMiniLMEmbedder

    return OnnxMiniLMEmbedder()


@pytest.fixture(scope="session")
def torch_embedder():  # type: ignore[no-untyped-def]
    """sentence-transformers on torch: only the reference the ONNX vectors are checked against."""
    from orchestrator.embedding.minilm_torch import get_embedder

    return get_embedder()


def time_server_yaml(name: str = "time") -> str:
    """Config lines for the third-party `mcp-server-time` (PyPI) as a stdio subprocess."""
    return (
        f"  {name}:\n    type: custom\n    command: {sys.executable}\n"
        f"    args: ['-m', 'mcp_server_time', '--local-timezone', 'UTC']\n"
    )
