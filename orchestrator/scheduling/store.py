"""Schedules and where they live: a JSON file (embedded default) or Redis (production).

Writers never overwrite a whole schedule they read earlier: `patch` sets named fields of a
schedule that still exists, and `advance` only moves `next_run_at` forward, so several scheduler
processes and a user pausing at the same moment cannot undo each other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from orchestrator.scheduling.errors import ScheduleIdTaken, ScheduleLimitError
from orchestrator.scheduling.when import When, when_from_dict, when_to_dict

log = logging.getLogger(__name__)

ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: easy to read and type
ID_LENGTH = 5
PATCHABLE = {"paused", "consecutive_failures", "last_run_at", "next_run_at", "what", "target"}


def new_schedule_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


@dataclass(frozen=True, slots=True)
class Schedule:
    """One scheduled workflow of one chat."""

    id: str
    platform: str
    chat_id: str
    creator_id: str
    creator_name: str
    when_text: str
    when: When
    what: str
    timezone: str
    target_platform: str = ""
    target_chat_id: str = ""
    paused: bool = False
    consecutive_failures: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_run_at: datetime | None = None
    next_run_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.target_platform:
            object.__setattr__(self, "target_platform", self.platform)
        if not self.target_chat_id:
            object.__setattr__(self, "target_chat_id", self.chat_id)

    @property
    def chat_key(self) -> str:
        return f"{self.platform}:{self.chat_id}"

    @property
    def target_key(self) -> str:
        return f"{self.target_platform}:{self.target_chat_id}"

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["when"] = when_to_dict(self.when)
        for name in ("created_at", "last_run_at", "next_run_at"):
            value = data[name]
            data[name] = value.isoformat() if value is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schedule:
        values = dict(data)
        values["when"] = when_from_dict(values["when"])
        for name in ("created_at", "last_run_at", "next_run_at"):
            raw = values.get(name)
            values[name] = datetime.fromisoformat(raw) if raw else None
        if values["created_at"] is None:
            values["created_at"] = datetime.now(UTC)
        values["paused"] = bool(values.get("paused", False))
        values["consecutive_failures"] = int(values.get("consecutive_failures", 0))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


class ScheduleStore(Protocol):
    """Where schedules live. Every method is safe to call from several tasks at once."""

    async def add(self, schedule: Schedule, max_per_chat: int) -> None:
        """Store a new schedule; ScheduleLimitError when the chat is full, ScheduleIdTaken."""

    async def get(self, schedule_id: str) -> Schedule | None: ...

    async def delete(self, schedule_id: str) -> bool: ...

    async def list_chat(self, chat_key: str) -> list[Schedule]: ...

    async def due(self, now: datetime) -> list[Schedule]:
        """Unpaused schedules whose next_run_at is at or before `now`."""

    async def patch(self, schedule_id: str, **changes: Any) -> Schedule | None:
        """Set the named fields of an existing schedule; None when it is gone."""

    async def advance(self, schedule_id: str, next_run_at: datetime | None) -> bool:
        """Move next_run_at forward (None = finished); never backwards. True when it moved."""

    async def close(self) -> None: ...


def _check_patch(changes: dict[str, Any]) -> None:
    unknown = set(changes) - PATCHABLE
    if unknown:
        raise ValueError(f"cannot patch {sorted(unknown)}")


def _is_later(new: datetime | None, old: datetime | None) -> bool:
    """None means "finished", later than any time."""
    if old is None:
        return False
    return new is None or new > old


class FileScheduleStore:
    """All schedules in one JSON file, rewritten atomically (temp file + os.replace).

    For one process: the embedded default. Several processes need the Redis store.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = asyncio.Lock()
        self._schedules: dict[str, Schedule] | None = None

    def _load(self) -> dict[str, Schedule]:
        if self._schedules is None:
            self._schedules = {}
            if self.path.exists():
                raw = json.loads(self.path.read_text(encoding="utf-8") or "{}")
                for item in raw.get("schedules", []):
                    schedule = Schedule.from_dict(item)
                    self._schedules[schedule.id] = schedule
                log.info("schedules_loaded path=%s count=%d", self.path, len(self._schedules))
        return self._schedules

    async def _save(self) -> None:
        data = {"version": 1, "schedules": [s.to_dict() for s in self._load().values()]}
        await asyncio.to_thread(_atomic_write, self.path, json.dumps(data, indent=1))

    async def add(self, schedule: Schedule, max_per_chat: int) -> None:
        async with self._lock:
            schedules = self._load()
            if schedule.id in schedules:
                raise ScheduleIdTaken(schedule.id)
            if sum(s.chat_key == schedule.chat_key for s in schedules.values()) >= max_per_chat:
                raise ScheduleLimitError(_full_message(max_per_chat))
            schedules[schedule.id] = schedule
            await self._save()

    async def get(self, schedule_id: str) -> Schedule | None:
        async with self._lock:
            return self._load().get(schedule_id)

    async def delete(self, schedule_id: str) -> bool:
        async with self._lock:
            if self._load().pop(schedule_id, None) is None:
                return False
            await self._save()
            return True

    async def list_chat(self, chat_key: str) -> list[Schedule]:
        async with self._lock:
            found = [s for s in self._load().values() if s.chat_key == chat_key]
        return sorted(found, key=lambda s: s.created_at)

    async def due(self, now: datetime) -> list[Schedule]:
        async with self._lock:
            return [
                s
                for s in self._load().values()
                if not s.paused and s.next_run_at is not None and s.next_run_at <= now
            ]

    async def patch(self, schedule_id: str, **changes: Any) -> Schedule | None:
        _check_patch(changes)
        async with self._lock:
            schedules = self._load()
            current = schedules.get(schedule_id)
            if current is None:
                return None
            updated = replace(current, **_expand_target(changes))
            schedules[schedule_id] = updated
            await self._save()
            return updated

    async def advance(self, schedule_id: str, next_run_at: datetime | None) -> bool:
        async with self._lock:
            schedules = self._load()
            current = schedules.get(schedule_id)
            if current is None or not _is_later(next_run_at, current.next_run_at):
                return False
            schedules[schedule_id] = replace(current, next_run_at=next_run_at)
            await self._save()
            return True

    async def close(self) -> None:
        return None


def _expand_target(changes: dict[str, Any]) -> dict[str, Any]:
    """`target=(platform, chat_id)` in a patch sets both target fields."""
    out = dict(changes)
    target = out.pop("target", None)
    if target is not None:
        out["target_platform"], out["target_chat_id"] = target
    return out


def _full_message(limit: int) -> str:
    return (
        f"This chat already has {limit} schedules, the most allowed. "
        "Remove one with /unschedule <id> first (see /schedules)."
    )


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- Redis ------------------------------------------------------------------------------------
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
    for name, value in _expand_target(changes).items():
        if name == "paused":
            out[name] = "1" if value else "0"
        elif isinstance(value, datetime):
            out[name] = value.isoformat()
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
            raise ScheduleLimitError(_full_message(max_per_chat))

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
        _check_patch(changes)
        pairs = [item for kv in _patch_fields(changes).items() for item in kv]
        done = await self._patch(
            keys=[self._key(schedule_id), self._due_key], args=[schedule_id, *pairs]
        )
        return await self.get(schedule_id) if done else None

    async def advance(self, schedule_id: str, next_run_at: datetime | None) -> bool:
        iso = next_run_at.isoformat() if next_run_at is not None else ""
        keys = [self._key(schedule_id), self._due_key]
        return bool(await self._advance(keys=keys, args=[schedule_id, _score(next_run_at), iso]))

    async def close(self) -> None:
        await self.client.aclose()
