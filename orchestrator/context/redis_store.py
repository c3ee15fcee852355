"""Context lines in Redis, shared by every process (front ends write, workers read): one list
per conversation, trimmed to `max_messages` on each write and expiring `max_age` after the last.
When Redis is down nothing is kept and requests go on without context (one warning per outage)."""

from __future__ import annotations

import asyncio
import logging
import math

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from orchestrator.context.base import ContextBounds, ContextLine, within

log = logging.getLogger(__name__)

UNAVAILABLE = (RedisError, OSError, asyncio.TimeoutError)

# KEYS: the list, the line's "seen" marker. ARGV: line, max_messages, TTL. A line whose marker
# exists (the same platform message, redelivered) is not added again.
_ADD_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
"""

# KEYS: the list. ARGV: the line id, its new author and text. The line keeps its place and time.
_REPLACE = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
for i, raw in ipairs(items) do
  local ok, line = pcall(cjson.decode, raw)
  if ok and type(line) == 'table' and line['id'] == ARGV[1] then
    line['author'] = ARGV[2]
    line['text'] = ARGV[3]
    redis.call('LSET', KEYS[1], i - 1, cjson.encode(line))
    return 1
  end
end
return 0
"""


class RedisContextStore:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._down = False
        self._add_once = client.register_script(_ADD_ONCE)
        self._replace = client.register_script(_REPLACE)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:context:{key}"

    def _failed(self, action: str, exc: BaseException) -> None:
        if not self._down:
            log.warning("context_store_unavailable action=%s error=%s", action, type(exc).__name__)
        self._down = True

    async def add(self, key: str, line: ContextLine, bounds: ContextBounds) -> None:
        name = self._key(key)
        ttl = max(1, math.ceil(bounds.max_age_seconds))
        try:
            if line.id:
                seen = f"{self._prefix}:context-seen:{key}:{line.id}"
                await self._add_once(
                    keys=[name, seen], args=[line.to_json(), bounds.max_messages, ttl]
                )
            else:
                async with self._client.pipeline(transaction=True) as pipe:
                    pipe.rpush(name, line.to_json())
                    pipe.ltrim(name, -bounds.max_messages, -1)
                    pipe.expire(name, ttl)
                    await pipe.execute()
        except UNAVAILABLE as exc:
            self._failed("add", exc)
            return
        self._down = False

    async def recent(self, key: str, bounds: ContextBounds, now: float) -> list[ContextLine]:
        try:
            raw = await self._client.lrange(self._key(key), -bounds.max_messages, -1)
        except UNAVAILABLE as exc:
            self._failed("read", exc)
            return []
        self._down = False
        lines = []
        for item in raw:
            try:
                lines.append(ContextLine.from_json(item))
            except (ValueError, KeyError, TypeError):
                log.warning("context_line_unreadable key=%s", key)
        return within(lines, bounds, now)

    async def replace(self, key: str, line: ContextLine) -> bool:
        if not line.id:
            return False
        try:
            found = await self._replace(
                keys=[self._key(key)], args=[line.id, line.author, line.text]
            )
        except UNAVAILABLE as exc:
            self._failed("replace", exc)
            return False
        self._down = False
        return bool(found)

    async def clear(self, key: str) -> int:
        name = self._key(key)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.llen(name)
                pipe.delete(name)
                count, _ = await pipe.execute()
        except UNAVAILABLE as exc:
            self._failed("clear", exc)
            return 0
        return int(count)

    async def close(self) -> None:
        await self._client.aclose()
