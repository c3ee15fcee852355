"""In-process sessions: the embedded default, one process, nothing survives a restart."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from orchestrator.sessions.model import Session


class InProcessSessionStore:
    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        # (chat, question) -> (who may answer, monotonic expiry)
        self._askers: dict[tuple[str, str], tuple[str, float]] = {}

    @asynccontextmanager
    async def lock(self, chat_key: str) -> AsyncIterator[None]:
        async with self._locks[chat_key]:
            yield

    async def load(self, chat_key: str) -> Session:
        return Session.from_json(self._data.get(chat_key))

    async def save(self, chat_key: str, session: Session) -> None:
        self._data[chat_key] = session.to_json()

    async def update(self, chat_key: str, change: Callable[[Session], None]) -> Session:
        async with self.lock(chat_key):
            session = await self.load(chat_key)
            change(session)
            await self.save(chat_key, session)
            return session

    async def record_question(
        self, chat_key: str, question_id: str, user_id: str, ttl_seconds: float
    ) -> None:
        now = time.monotonic()
        for key in [k for k, (_, until) in self._askers.items() if until <= now]:
            del self._askers[key]  # expired: pruned as new ones come
        self._askers[(chat_key, question_id)] = (user_id, now + ttl_seconds)

    async def question_asker(self, chat_key: str, question_id: str) -> str | None:
        found = self._askers.get((chat_key, question_id))
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    async def drop_question(self, chat_key: str, question_id: str) -> None:
        self._askers.pop((chat_key, question_id), None)

    async def keys(self) -> list[str]:
        """Every conversation with a session (the console lists waiting approvals)."""
        return list(self._data)

    async def close(self) -> None:
        return None
