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

    async def record_question(
        self, chat_key: str, question_id: str, user_id: str, ttl_seconds: float
    ) -> None:
        """Note who may answer a tool server's question asked in this chat. The question waits
        in the process running the tool (a worker); a front end receiving a press on its
        buttons reads this to tell the asker from a stranger. Expires after `ttl_seconds`, so
        the record of a process that died with its question frees itself."""
        ...

    async def question_asker(self, chat_key: str, question_id: str) -> str | None:
        """The user id the question waits for, or None (answered, expired, another chat's)."""
        ...

    async def drop_question(self, chat_key: str, question_id: str) -> None:
        """The question is answered or timed out: nobody is asked any more."""
        ...

    async def close(self) -> None: ...
