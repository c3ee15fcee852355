"""Pick the context store: Redis when the sessions live there (front ends and workers share
it), else this process's own map."""

from __future__ import annotations

import redis.asyncio as aioredis

from orchestrator.config import Config
from orchestrator.context.base import ContextStore
from orchestrator.context.in_process import InProcessContextStore
from orchestrator.context.redis_store import RedisContextStore


def make_context_store(config: Config) -> ContextStore | None:
    if not config.context.enabled:
        return None
    sessions = config.sessions
    if sessions.backend == "redis":
        client = aioredis.Redis.from_url(
            sessions.url or "redis://127.0.0.1:6379/0",
            socket_connect_timeout=sessions.connect_timeout_seconds,
            socket_timeout=sessions.command_timeout_seconds,
            client_name=f"{sessions.key_prefix}:context",
        )
        return RedisContextStore(client, f"{sessions.key_prefix}:{config.orchestrator.name}")
    return InProcessContextStore()
