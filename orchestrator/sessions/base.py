"""The SessionStore seam: a chat's short-term state, in one process or in Redis."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from orchestrator.sessions.model import Session


class SessionStore(Protocol):
    """Per-chat short-term state.

    `update` is the way to write: it applies a change to the stored session atomically (under
    the chat's lock, or by compare-and-set), never across an LLM call, so two requests of one
    chat that finish together both keep their turns. Its `change` may run more than once, each
    time on a fresh copy, so it must only mutate the session it is given. `lock`/`save` remain
    for writers that read, decide and write in one short step themselves.
    """

    def lock(self, chat_key: str) -> AbstractAsyncContextManager[None]: ...

    async def load(self, chat_key: str) -> Session: ...

    async def save(self, chat_key: str, session: Session) -> None: ...

    async def update(self, chat_key: str, change: Callable[[Session], None]) -> Session:
        """Apply `change` to the stored session atomically; the session as saved."""
        ...

    async def close(self) -> None: ...
