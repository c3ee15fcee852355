"""In-process sessions: the embedded default, one process, nothing survives a restart."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from orchestrator.sessions.model import Session


class InProcessSessionStore:
    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

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

    async def keys(self) -> list[str]:
        """Every conversation with a session (the console lists waiting approvals)."""
        return list(self._data)

    async def close(self) -> None:
        return None
