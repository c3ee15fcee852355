"""Schedules in Redis: several scheduler processes share them; Lua keeps each write atomic."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from orchestrator.scheduling.errors import ScheduleIdTaken, ScheduleLimitError
from orchestrator.scheduling.store import (
    RUNS_KEPT,
    Schedule,
    ScheduleRun,
    check_patch,
    expand_target,
    full_message,
)

log = logging.getLogger(__name__)

# KEYS: 1 schedule hash, 2 due zset, 3 chat set. ARGV: 1 id, 2 max per chat, 3 score, then pairs.
_ADD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[2]) then return -2 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('SADD', KEYS[3], ARGV[1])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
return 1
"""
# KEYS: 1 hash, 2 due zset. ARGV: 1 id, then field/value pairs. Re-derives the zset entry.
_PATCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local paused = redis.call('HGET', KEYS[1], 'paused')
local score = redis.call('HGET', KEYS[1], 'next_ts')
if paused == '0' and score and score ~= '' then
  redis.call('ZADD', KEYS[2], score, ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""
# KEYS: 1 hash, 2 due zset. ARGV: 1 id, 2 new next_ts ('' = finished), 3 new next_run_at.
_ADVANCE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local old = redis.call('HGET', KEYS[1], 'next_ts')
if not old or old == '' then return 0 end
if ARGV[2] ~= '' and tonumber(ARGV[2]) <= tonumber(old) then return 0 end
redis.call('HSET', KEYS[1], 'next_ts', ARGV[2], 'next_run_at', ARGV[3])
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'paused') == '0' then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""


def _encode(schedule: Schedule) -> dict[str, str]:
    """A schedule as flat hash fields (JSON for the when spec)."""
    data = schedule.to_dict()
    out = {k: "" if v is None else str(v) for k, v in data.items() if k != "when"}
    out["when"] = json.dumps(data["when"])
    out["paused"] = "1" if schedule.paused else "0"
    out["next_ts"] = _score(schedule.next_run_at)
    return out


def _decode(raw: dict[bytes, bytes]) -> Schedule:
    data: dict[str, Any] = {k.decode(): v.decode() for k, v in raw.items()}
    data["when"] = json.loads(data["when"])
    data["paused"] = data.get("paused") == "1"
    data.pop("next_ts", None)
    return Schedule.from_dict(data)


def _score(moment: datetime | None) -> str:
    return "" if moment is None else repr(moment.timestamp())


def _patch_fields(changes: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in expand_target(changes).items():
        if name == "paused":
            out[name] = "1" if value else "0"
        elif isinstance(value, datetime):
            out[name] = value.isoformat()
        elif isinstance(value, tuple | list):
            out[name] = ",".join(value)
        else:
            out[name] = "" if value is None else str(value)
    if "next_run_at" in changes:
        out["next_ts"] = _score(changes["next_run_at"])
    return out


class RedisScheduleStore:
    """A hash per schedule, a sorted set of next run times, a set of ids per chat."""

    def __init__(self, client: Any, prefix: str = "orch") -> None:
        self.client = client
        self.prefix = f"{prefix}:sched"
        self._add = client.register_script(_ADD)
        self._patch = client.register_script(_PATCH)
        self._advance = client.register_script(_ADVANCE)

    @classmethod
    def from_url(cls, url: str, prefix: str = "orch") -> RedisScheduleStore:
        import redis.asyncio as aioredis

        return cls(aioredis.Redis.from_url(url), prefix)

    def _key(self, schedule_id: str) -> str:
        return f"{self.prefix}:s:{schedule_id}"

    def _runs_key(self, schedule_id: str) -> str:
        return f"{self.prefix}:runs:{schedule_id}"

    @property
    def _all_key(self) -> str:
        return f"{self.prefix}:all"

    @property
    def _due_key(self) -> str:
        return f"{self.prefix}:due"

    def _chat_key(self, chat_key: str) -> str:
        return f"{self.prefix}:chat:{chat_key}"

    async def add(self, schedule: Schedule, max_per_chat: int) -> None:
        encoded = _encode(schedule)
        score = encoded["next_ts"] if not schedule.paused else ""
        pairs = [item for kv in encoded.items() for item in kv]
        keys = [self._key(schedule.id), self._due_key, self._chat_key(schedule.chat_key)]
        result = await self._add(keys=keys, args=[schedule.id, max_per_chat, score, *pairs])
        if result == -1:
            raise ScheduleIdTaken(schedule.id)
        if result == -2:
            raise ScheduleLimitError(full_message(max_per_chat))
        await self.client.sadd(self._all_key, schedule.id)

    async def get(self, schedule_id: str) -> Schedule | None:
        raw = await self.client.hgetall(self._key(schedule_id))
        return _decode(raw) if raw else None

    async def delete(self, schedule_id: str) -> bool:
        current = await self.get(schedule_id)
        if current is None:
            return False
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(schedule_id))
            pipe.zrem(self._due_key, schedule_id)
            pipe.srem(self._chat_key(current.chat_key), schedule_id)
            pipe.delete(self._runs_key(schedule_id))
            pipe.srem(self._all_key, schedule_id)
            deleted, *_ = await pipe.execute()
        return bool(deleted)

    async def _many(self, ids: list[str]) -> list[Schedule]:
        if not ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for schedule_id in ids:
                pipe.hgetall(self._key(schedule_id))
            raws = await pipe.execute()
        return [_decode(raw) for raw in raws if raw]

    async def list_chat(self, chat_key: str) -> list[Schedule]:
        ids = sorted(m.decode() for m in await self.client.smembers(self._chat_key(chat_key)))
        return sorted(await self._many(ids), key=lambda s: s.created_at)

    async def due(self, now: datetime) -> list[Schedule]:
        ids = await self.client.zrangebyscore(self._due_key, "-inf", now.timestamp())
        found = await self._many([i.decode() for i in ids])
        return [s for s in found if not s.paused and s.next_run_at and s.next_run_at <= now]

    async def patch(self, schedule_id: str, **changes: Any) -> Schedule | None:
        check_patch(changes)
        pairs = [item for kv in _patch_fields(changes).items() for item in kv]
        done = await self._patch(
            keys=[self._key(schedule_id), self._due_key], args=[schedule_id, *pairs]
        )
        return await self.get(schedule_id) if done else None

    async def advance(self, schedule_id: str, next_run_at: datetime | None) -> bool:
        iso = next_run_at.isoformat() if next_run_at is not None else ""
        keys = [self._key(schedule_id), self._due_key]
        return bool(await self._advance(keys=keys, args=[schedule_id, _score(next_run_at), iso]))

    async def all(self) -> list[Schedule]:
        ids = sorted(m.decode() for m in await self.client.smembers(self._all_key))
        return sorted(await self._many(ids), key=lambda s: s.created_at)

    async def add_run(self, schedule_id: str, run: ScheduleRun, keep: int = RUNS_KEPT) -> None:
        if not await self.client.exists(self._key(schedule_id)):
            return
        key = self._runs_key(schedule_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lpush(key, json.dumps(run.to_dict()))
            pipe.ltrim(key, 0, keep - 1)
            await pipe.execute()

    async def runs(self, schedule_id: str, limit: int = RUNS_KEPT) -> list[ScheduleRun]:
        raws = await self.client.lrange(self._runs_key(schedule_id), 0, limit - 1)
        return [ScheduleRun.from_dict(json.loads(r)) for r in raws]

    async def close(self) -> None:
        await self.client.aclose()
