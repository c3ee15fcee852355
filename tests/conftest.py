"""Shared fixtures for the expensive real parts: Redis, the embedding model, MCP servers."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def key_prefix() -> str:
    """A Redis key prefix of this test alone (tests delete their keys under it)."""
    return f"test-{uuid.uuid4().hex[:10]}"


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
    """The real MiniLM model, loaded once per test session."""
    from orchestrator.embedding.minilm_torch import get_embedder

    return get_embedder()


def time_server_yaml(name: str = "time") -> str:
    """Config lines for the third-party `mcp-server-time` (PyPI) as a stdio subprocess."""
    return (
        f"  {name}:\n    type: custom\n    command: {sys.executable}\n"
        f"    args: ['-m', 'mcp_server_time', '--local-timezone', 'UTC']\n"
    )
