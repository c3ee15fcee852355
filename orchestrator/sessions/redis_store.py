"""Sessions in Redis: shared by every bot process, surviving restarts, expiring when idle.

Messages of one chat are serialised by a local FIFO lock (arrival order inside a process) and a
Redis lock (across processes) whose timeout frees a chat whose holder crashed. `update`, on every
answered message, first tries without the lock: it changes the value this process last read for
the chat (`load`, at the start of the same message) and writes it with a compare-and-set script
that writes only if nobody wrote or holds the lock since (1 round trip); else it reads again and
tries once more (2); on a conflict it redoes the change under the lock (4). When Redis is down,
requests go on without history: load gives an empty session, save is skipped, the lock is local
only, and one warning is logged per outage.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import LockError, RedisError

from orchestrator.config import SessionSettings
from orchestrator.sessions.model import Session

log = logging.getLogger(__name__)

UNAVAILABLE = (RedisError, OSError, asyncio.TimeoutError)

# KEYS: session, its lock. ARGV: SHA-1 of the value read (of "" if missing), new value, TTL.
# 0 when a `lock()` holder is mid read-modify-write (our write would overwrite or be overwritten)
# or the value changed since it was read; else the write is done and 1.
_SWAP_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local current = redis.call('GET', KEYS[1]) or ''
if redis.sha1hex(current) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


READ_KEPT = 256  # chats whose last value is kept for a one-round-trip update (a few KB each)


def _digest(raw: str | bytes | None) -> str:
    """What the swap script compares: the SHA-1 of the stored bytes, a missing key as b""."""
    data = raw.encode() if isinstance(raw, str) else raw or b""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _changed(session: Session, change: Callable[[Session], None]) -> Session:
    change(session)
    return session


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
        self._swap = self.client.register_script(_SWAP_SCRIPT)  # EVALSHA, EVAL if unknown
        # chat -> the value this process last read or wrote (the base of a one-trip update)
        self._read: OrderedDict[str, str | bytes | None] = OrderedDict()

    def _keep_read(self, chat_key: str, raw: str | bytes | None) -> None:
        self._read[chat_key] = raw
        self._read.move_to_end(chat_key)
        if len(self._read) > READ_KEPT:
            self._read.popitem(last=False)

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
        self._keep_read(chat_key, raw)
        return Session.from_json(raw)

    async def save(self, chat_key: str, session: Session) -> None:
        value = session.to_json()
        try:
            await self.client.set(self.key(chat_key), value, ex=self.settings.ttl_seconds)
        except UNAVAILABLE as exc:
            self._failed("save", exc)
            return
        self._ok()
        self._keep_read(chat_key, value.encode())

    async def update(self, chat_key: str, change: Callable[[Session], None]) -> Session:
        """Apply `change` optimistically (GET, then the swap script), else under `lock()`.

        `change` may thus run twice: first on a copy that is discarded when another writer got
        in first, then on a freshly loaded session. It must only mutate the session it is given
        (both callers, the turn recorder and set_timezone, do just that)."""
        session = await self._try_swap(chat_key, change)
        if session is not None:
            return session
        log.debug("session_update_contended chat=%s", chat_key)
        async with self.lock(chat_key):
            session = await self.load(chat_key)
            change(session)
            await self.save(chat_key, session)
            return session

    async def _try_swap(self, chat_key: str, change: Callable[[Session], None]) -> Session | None:
        """The changed session once written, or None when it was not (a conflict). With Redis
        down, the change applied without history (to an empty session if the read failed).
        First against the value `load` read for this chat, if it still holds; then read."""
        if chat_key in self._read:
            session = await self._swap_from(chat_key, self._read.pop(chat_key), change)
            if session is not None:
                return session
        try:
            raw = await self.client.get(self.key(chat_key))
        except UNAVAILABLE as exc:
            self._failed("update", exc)
            return _changed(Session(), change)
        self._ok()
        return await self._swap_from(chat_key, raw, change)

    async def _swap_from(
        self, chat_key: str, raw: str | bytes | None, change: Callable[[Session], None]
    ) -> Session | None:
        """`change` applied to `raw`, written if the stored value is still `raw` and no lock is
        held: the session, or None when refused."""
        key = self.key(chat_key)
        session = _changed(Session.from_json(raw), change)
        value = session.to_json()
        args: list[str | int] = [_digest(raw), value, self.settings.ttl_seconds]
        try:
            written = await self._swap(keys=[key, f"{key}:lock"], args=args)
        except UNAVAILABLE as exc:
            self._failed("update", exc)
            return session
        if not written:
            return None
        self._keep_read(chat_key, value.encode())
        return session

    def question_key(self, chat_key: str, question_id: str) -> str:
        """Under the chat: a press in one chat never reads another chat's question."""
        return f"{self.prefix}:question:{chat_key}:{question_id}"

    async def record_question(
        self, chat_key: str, question_id: str, user_id: str, ttl_seconds: float
    ) -> None:
        """A key of its own with the question's expiry (not in the session: no write to the
        chat's session per question, and no record outliving the question)."""
        key, ttl = self.question_key(chat_key, question_id), max(1, math.ceil(ttl_seconds))
        try:
            await self.client.set(key, user_id, ex=ttl)
        except UNAVAILABLE as exc:
            self._failed("record_question", exc)
            return
        self._ok()

    async def question_asker(self, chat_key: str, question_id: str) -> str | None:
        try:
            raw = await self.client.get(self.question_key(chat_key, question_id))
        except UNAVAILABLE as exc:
            self._failed("question_asker", exc)
            return None  # cannot tell: the press goes on as before the record existed
        self._ok()
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def drop_question(self, chat_key: str, question_id: str) -> None:
        try:
            await self.client.delete(self.question_key(chat_key, question_id))
        except UNAVAILABLE as exc:
            self._failed("drop_question", exc)  # it expires with the question's timeout
            return
        self._ok()

    async def keys(self, limit: int = 10_000) -> list[str]:
        """Conversations with a session (SCAN, at most `limit`): the console's approvals page."""
        head = self.key("")
        found: list[str] = []
        async for raw in self.client.scan_iter(match=f"{head}*", count=500):
            found.append((raw.decode() if isinstance(raw, bytes) else str(raw))[len(head) :])
            if len(found) >= limit:
                break
        return found

    async def close(self) -> None:
        await self.client.aclose()
