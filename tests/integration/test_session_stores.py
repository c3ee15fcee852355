"""One contract for both session stores (in-process, Redis), plus Redis outages and restarts."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import pytest

from orchestrator.config import SessionSettings
from orchestrator.sessions.base import SessionStore
from orchestrator.sessions.in_process import InProcessSessionStore
from orchestrator.sessions.model import PendingCall, PendingConfirmation, Session, Turn
from orchestrator.sessions.redis_store import RedisSessionStore
from scripts.with_redis import free_port, start_redis_server
from tests.conftest import REPO


@pytest.fixture(params=["inprocess", "redis"])
async def store(
    request: pytest.FixtureRequest, redis_url: str, key_prefix: str, redis_client: object
) -> AsyncIterator[SessionStore]:
    if request.param == "inprocess":
        yield InProcessSessionStore()
        return
    s = RedisSessionStore(
        SessionSettings(backend="redis", url=redis_url, key_prefix=key_prefix, max_turns=100)
    )
    yield s
    await s.close()


async def test_new_chat_has_an_empty_session(store: SessionStore) -> None:
    session = await store.load("t:new")
    assert session.turns == [] and session.pending == {} and session.settings == {}


async def test_turns_pending_and_settings_round_trip(store: SessionStore) -> None:
    session = Session(settings={"timezone": "Asia/Tokyo", "language": "ja"})
    session.add_turn(Turn("user", "hi", "u1", 1.0), 10, 1000)
    session.pending["p1"] = PendingConfirmation(
        "p1",
        "u1",
        time.time() + 60,
        calls=[PendingCall("c1", "clickup__create_task", "clickup", "create_task", {"n": 1}, "x")],
        messages=[{"role": "user", "content": "make a task"}],
        request="make a task",
        steps=1,
        offered=["clickup__create_task"],
        done={"k": "v"},
    )
    await store.save("t:a", session)
    loaded = await store.load("t:a")
    assert loaded == session
    assert (await store.load("t:b")).turns == []


async def test_fifty_concurrent_messages_keep_every_turn_in_arrival_order(
    store: SessionStore,
) -> None:
    async def one(i: int) -> None:
        async with store.lock("t:busy"):
            session = await store.load("t:busy")
            await asyncio.sleep(0)
            session.add_turn(Turn("user", f"m{i}", "u", float(i)), 100, 100_000)
            await store.save("t:busy", session)

    tasks = []
    for i in range(50):
        tasks.append(asyncio.create_task(one(i)))
        await asyncio.sleep(0)  # arrival order = creation order
    await asyncio.gather(*tasks)
    assert [t.text for t in (await store.load("t:busy")).turns] == [f"m{i}" for i in range(50)]


def test_turns_are_bounded_by_count_and_tokens() -> None:
    session = Session()
    for i in range(30):
        session.add_turn(Turn("user", f"message {i:02d}", "u"), 20, 2_500)
    assert len(session.turns) == 20 and session.turns[0].text == "message 10"
    session.add_turn(Turn("user", "x" * 9_900, "u"), 20, 2_500)  # ~2,475 tokens
    # 20 turns of 3 tokens + 2,475 is 35 over: the 12 oldest go, oldest first.
    assert len(session.turns) == 9 and session.turns[0].text == "message 22"
    assert session.turns[-1].text.startswith("xxx")
    session.add_turn(Turn("user", "y" * 9_999, "u"), 20, 2_500)
    assert [t.text[0] for t in session.turns] == ["y"]


async def test_sessions_expire_after_idle_ttl(
    redis_url: str, key_prefix: str, redis_client
) -> None:  # type: ignore[no-untyped-def]
    s = RedisSessionStore(
        SessionSettings(backend="redis", url=redis_url, key_prefix=key_prefix, ttl_seconds=60)
    )
    await s.save("t:ttl", Session(settings={"a": "b"}))
    assert 0 < await redis_client.ttl(s.key("t:ttl")) <= 60
    await s.close()


async def test_a_new_process_sees_earlier_sessions(
    redis_url: str, key_prefix: str, redis_client
) -> None:  # type: ignore[no-untyped-def]
    s = RedisSessionStore(SessionSettings(backend="redis", url=redis_url, key_prefix=key_prefix))
    session = Session()
    session.add_turn(Turn("user", "remember the Globex deal", "u"), 10, 1000)
    await s.save("telegram:-100", session)
    await s.close()
    code = (
        "import asyncio\nfrom orchestrator.config import SessionSettings\n"
        "from orchestrator.sessions.redis_store import RedisSessionStore\n"
        f"s = RedisSessionStore(SessionSettings(backend='redis', url='{redis_url}', "
        f"key_prefix='{key_prefix}'))\n"
        "print(asyncio.run(s.load('telegram:-100')).turns[0].text)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert out.stdout.strip() == "remember the Globex deal", out.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
async def test_redis_outage_mid_run_every_message_still_gets_an_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1,000 messages over 100 chats; Redis stops for a few seconds in the middle."""
    from orchestrator.app import build_orchestrator
    from orchestrator.config import parse_config
    from orchestrator.messages import ChatMessage

    caplog.set_level("INFO", logger="orchestrator.sessions.redis_store")
    port = free_port()
    server = start_redis_server(port)
    config = parse_config(
        "orchestrator:\n  memory_system: {type: none}\n  tool_routing: {strategy: all}\n"
        f"sessions:\n  backend: redis\n  url: redis://127.0.0.1:{port}/0\n"
        "  connect_timeout_seconds: 0.2\n  command_timeout_seconds: 0.2\n"
        "scheduler: {enabled: false}\nlimits: {messages_per_minute_per_user: 10000}\n",
        env={},
    )
    bot = build_orchestrator(config)
    await bot.start()
    answered = 0
    try:
        for i in range(1000):
            if i == 400:
                server.terminate()
                server.wait()
            if i == 600:
                server = start_redis_server(port)
            chat = f"c{i % 100}"
            replies = await bot.handle(ChatMessage("test", chat, f"u{i % 7}", "/confirm nope"))
            # The command's own answer (it read the session), not the generic failure reply.
            answered += bool(replies) and replies[0].text.startswith("That request has expired")
    finally:
        await bot.stop()
        server.terminate()
        server.wait()
    assert answered == 1000
    warnings = [r for r in caplog.records if "redis_unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert any("redis_recovered" in r.getMessage() for r in caplog.records)
