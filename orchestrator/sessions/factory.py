"""Pick the session store the config names."""

from __future__ import annotations

from orchestrator.config import SessionSettings
from orchestrator.sessions.base import SessionStore
from orchestrator.sessions.in_process import InProcessSessionStore
from orchestrator.sessions.redis_store import RedisSessionStore


def make_session_store(settings: SessionSettings, bot: str = "default") -> SessionStore:
    if settings.backend == "redis":
        return RedisSessionStore(settings, bot=bot)
    return InProcessSessionStore()
