"""Pick the session store the config names."""

from __future__ import annotations

from orchestrator.config import SessionSettings
from orchestrator.sessions.base import SessionStore


def make_session_store(settings: SessionSettings, bot: str = "default") -> SessionStore:
    if settings.backend == "redis":
        from orchestrator.sessions.redis_store import RedisSessionStore

        return RedisSessionStore(settings, bot=bot)
    from orchestrator.sessions.in_process import InProcessSessionStore

    return InProcessSessionStore()
