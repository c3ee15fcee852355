"""Builds the scheduler's store and run claims from config: a file, or Redis."""

from __future__ import annotations

from orchestrator.clock import Clock
from orchestrator.config import SchedulerSettings
from orchestrator.errors import ConfigError
from orchestrator.scheduling.claims import InProcessRunClaims, RedisRunClaims, RunClaims
from orchestrator.scheduling.engine import Notify, Runner, Scheduler
from orchestrator.scheduling.file_store import FileScheduleStore
from orchestrator.scheduling.redis_store import RedisScheduleStore
from orchestrator.scheduling.store import ScheduleStore


def _redis_url(settings: SchedulerSettings, redis_url: str | None) -> str:
    if not redis_url:
        raise ConfigError(["scheduler.store: redis needs a Redis url (sessions.url)"])
    return redis_url


def make_schedule_store(
    settings: SchedulerSettings, redis_url: str | None = None, key_prefix: str = "orch"
) -> ScheduleStore:
    """`scheduler.store: file` -> FileScheduleStore(path); `redis` -> RedisScheduleStore."""
    if settings.store == "redis":
        return RedisScheduleStore.from_url(_redis_url(settings, redis_url), key_prefix)
    return FileScheduleStore(settings.path)


def make_run_claims(
    settings: SchedulerSettings, redis_url: str | None = None, key_prefix: str = "orch"
) -> RunClaims:
    """Redis claims when schedules live in Redis (several processes), else in-process ones."""
    if settings.store == "redis":
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(_redis_url(settings, redis_url))
        ttl = max(2 * 86400, 4 * settings.grace_seconds)
        return RedisRunClaims(client, key_prefix, ttl, settings.lease_seconds)
    return InProcessRunClaims()


def build_scheduler(
    settings: SchedulerSettings,
    clock: Clock,
    runner: Runner,
    *,
    notify: Notify | None = None,
    redis_url: str | None = None,
    key_prefix: str = "orch",
) -> Scheduler:
    store = make_schedule_store(settings, redis_url, key_prefix)
    claims = make_run_claims(settings, redis_url, key_prefix)
    return Scheduler(store, clock, runner, settings, claims, notify=notify)
