"""The SessionStore seam: a chat's short-term state, in one process or in Redis."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from orchestrator.sessions.model import Session


class SessionStore(Protocol):
    """Per-chat short-term state. `lock` serialises one chat's messages."""

    def lock(self, chat_key: str) -> AbstractAsyncContextManager[None]: ...

    async def load(self, chat_key: str) -> Session: ...

    async def save(self, chat_key: str, session: Session) -> None: ...

    async def close(self) -> None: ...
