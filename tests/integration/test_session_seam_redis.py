"""The session-store seam against the real Redis: what one process saves, a new store loads."""

from __future__ import annotations

from orchestrator.config import SessionSettings
from orchestrator.sessions.factory import make_session_store
from orchestrator.sessions.model import Session, Turn


async def test_redis_round_trip_through_the_seam(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    settings = SessionSettings(backend="redis", url=redis_url, key_prefix=key_prefix)
    store = make_session_store(settings, bot="skeleton")
    session = Session(settings={"timezone": "Europe/London"})
    session.add_turn(Turn("user", "hello", "u1", 1.0), 20, 10_000)
    async with store.lock("test:chat-1"):
        await store.save("test:chat-1", session)
    await store.close()

    fresh = make_session_store(settings, bot="skeleton")
    loaded = await fresh.load("test:chat-1")
    other = await fresh.load("test:chat-2")
    await fresh.close()
    assert [t.text for t in loaded.turns] == ["hello"]
    assert loaded.settings == {"timezone": "Europe/London"}
    assert other.turns == []
