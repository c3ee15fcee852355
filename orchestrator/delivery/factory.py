"""Pick the delivery store: Redis when the sessions live there (several processes, restarts),
else the in-process TTL map of the embedded default."""

from __future__ import annotations

import redis.asyncio as aioredis

from orchestrator.config import Config
from orchestrator.delivery.base import DeliveryStore
from orchestrator.delivery.in_process import InProcessDeliveryStore
from orchestrator.delivery.redis_store import RedisDeliveryStore


def make_delivery_store(config: Config) -> DeliveryStore:
    settings, sessions = config.delivery, config.sessions
    if sessions.backend == "redis":
        client = aioredis.Redis.from_url(
            sessions.url or "redis://127.0.0.1:6379/0",
            socket_connect_timeout=sessions.connect_timeout_seconds,
        )
        return RedisDeliveryStore(
            client,
            f"{sessions.key_prefix}:{config.orchestrator.name}",
            claim_ttl_seconds=settings.claim_ttl_seconds,
            lease_seconds=settings.lease_seconds,
            alive_seconds=settings.alive_seconds,
            url=sessions.url or "redis://127.0.0.1:6379/0",
        )
    return InProcessDeliveryStore(settings.claim_ttl_seconds)
