"""Sessions in Redis: shared by every bot process, surviving restarts, expiring when idle.

Messages of one chat are serialised by a local FIFO lock (arrival order inside a process) and a
Redis lock (across processes) whose timeout frees a chat whose holder crashed. When Redis is
down, requests go on without history: load gives an empty session, save is skipped, the lock is
local only, and one warning is logged per outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import LockError, RedisError

from orchestrator.config import SessionSettings
from orchestrator.sessions.model import Session

log = logging.getLogger(__name__)

UNAVAILABLE = (RedisError, OSError, asyncio.TimeoutError)


class RedisSessionStore:
    def __init__(
        self, settings: SessionSettings, bot: str = "default", client: aioredis.Redis | None = None
    ) -> None:
        self.settings = settings
        self.prefix = f"{settings.key_prefix}:{bot}"
        self.client = client or aioredis.Redis.from_url(
            settings.url or "redis://127.0.0.1:6379/0",
            socket_connect_timeout=settings.connect_timeout_seconds,
            socket_timeout=settings.command_timeout_seconds,
        )
        self._local: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._down = False

    def key(self, chat_key: str) -> str:
        return f"{self.prefix}:session:{chat_key}"

    def _failed(self, operation: str, exc: BaseException) -> None:
        if not self._down:
            self._down = True
            log.warning(
                "redis_unavailable op=%s error=%s; continuing without history",
                operation,
                type(exc).__name__,
            )

    def _ok(self) -> None:
        if self._down:
            self._down = False
            log.info("redis_recovered")

    @asynccontextmanager
    async def lock(self, chat_key: str) -> AsyncIterator[None]:
        async with self._local[chat_key]:
            lock = self.client.lock(
                f"{self.key(chat_key)}:lock",
                timeout=self.settings.lock_timeout_seconds,
                blocking_timeout=self.settings.lock_timeout_seconds,
            )
            held = False
            try:
                held = bool(await lock.acquire())
                self._ok()
            except UNAVAILABLE as exc:
                self._failed("lock", exc)
            try:
                yield
            finally:
                if held:
                    try:
                        await lock.release()
                    except (LockError, *UNAVAILABLE):
                        pass  # expired or Redis gone: the lock frees itself by its timeout

    async def load(self, chat_key: str) -> Session:
        try:
            raw = await self.client.get(self.key(chat_key))
        except UNAVAILABLE as exc:
            self._failed("load", exc)
            return Session()
        self._ok()
        return Session.from_json(raw)

    async def save(self, chat_key: str, session: Session) -> None:
        try:
            await self.client.set(
                self.key(chat_key), session.to_json(), ex=self.settings.ttl_seconds
            )
        except UNAVAILABLE as exc:
            self._failed("save", exc)
            return
        self._ok()

    async def update(self, chat_key: str, change: Callable[[Session], None]) -> Session:
        async with self.lock(chat_key):
            session = await self.load(chat_key)
            change(session)
            await self.save(chat_key, session)
            return session

    async def close(self) -> None:
        await self.client.aclose()
