"""The token vault in Redis: one hash per server (`<prefix>:oauth:<server>`), slot -> sealed."""

from __future__ import annotations

import redis.asyncio as aioredis


class RedisVault:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _key(self, server: str) -> str:
        return f"{self._prefix}:oauth:{server}"

    async def get(self, server: str, slot: str) -> str | None:
        value = await self._redis.hget(self._key(server), slot)
        return value.decode() if isinstance(value, bytes) else value

    async def put(self, server: str, slot: str, sealed: str) -> None:
        await self._redis.hset(self._key(server), slot, sealed)

    async def delete(self, server: str, slot: str) -> None:
        await self._redis.hdel(self._key(server), slot)

    async def slots(self, server: str) -> list[str]:
        keys = await self._redis.hkeys(self._key(server))
        return sorted(k.decode() if isinstance(k, bytes) else k for k in keys)

    async def close(self) -> None:
        await self._redis.aclose()
