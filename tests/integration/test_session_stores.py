"""One contract for both session stores (in-process, Redis), plus Redis outages and restarts."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis.asyncio as aioredis

from orchestrator.config import SessionSettings
from orchestrator.sessions.base import SessionStore
from orchestrator.sessions.in_process import InProcessSessionStore
from orchestrator.sessions.model import Answered, PendingCall, PendingConfirmation, Session, Turn
from orchestrator.sessions.redis_store import RedisSessionStore
from scripts.with_redis import free_port, start_redis_server
from tests.conftest import REPO
from tests.helpers import async_eventually


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
    session.answered["p0"] = Answered(run=True, at=1.0, until=time.time() + 60)
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


async def test_a_questions_asker_is_kept_per_chat_until_dropped_or_expired(
    store: SessionStore,
) -> None:
    await store.record_question("t:a", "q1", "u1", 60)
    assert await store.question_asker("t:a", "q1") == "u1"
    assert await store.question_asker("t:b", "q1") is None  # another chat reads nothing
    assert await store.question_asker("t:a", "q2") is None
    assert (await store.load("t:a")).turns == []  # beside the session, not in it
    await store.drop_question("t:a", "q1")
    assert await store.question_asker("t:a", "q1") is None
    await store.record_question("t:a", "q3", "u1", 1)  # a worker died with it: it frees itself
    assert await async_eventually(lambda: _gone(store, "t:a", "q3"), seconds=5)


async def _gone(store: SessionStore, chat: str, question: str) -> bool:
    return await store.question_asker(chat, question) is None


def test_the_stored_json_is_the_dataclasses_as_dicts() -> None:
    """Sessions written before the field-by-field writer (and by it) read back alike."""
    import json
    from dataclasses import asdict

    plan = PendingConfirmation(
        "p1", "u1", 9.5, [PendingCall("c1", "a__b", "a", "b", {"x": [1, {"y": 2}]}, "B it")]
    )
    session = Session([Turn("user", "hi \u00e9", "u1", 1.5)], {"p1": plan}, {"tz": "UTC"})
    assert session.to_json() == json.dumps(asdict(session), separators=(",", ":"))
    assert Session.from_json(session.to_json()) == session


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
        "orchestrator:\n  memory_system: {type: none}\n"
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


# -- update: optimistic compare-and-set, the lock only on a conflict ------------------------------
needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server not installed"
)


@pytest.fixture
def private_redis() -> Iterator[str]:
    """A redis-server of this test alone: its command stats and slow log show only this test's
    commands, and reconfiguring it touches no one else."""
    port = free_port()
    server = start_redis_server(port)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait()


def redis_store(url: str, key_prefix: str = "t") -> RedisSessionStore:
    return RedisSessionStore(
        SessionSettings(backend="redis", url=url, key_prefix=key_prefix, max_turns=100)
    )


def append(text: str) -> Callable[[Session], None]:
    return lambda session: session.add_turn(Turn("user", text, "u"), 100, 100_000)


async def command_calls(client: aioredis.Redis) -> dict[str, int]:
    stats = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in stats.items()}


async def test_updates_from_two_processes_racing_keep_every_turn(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    """Two stores with their own clients, like two bot processes, update one chat together:
    conflicting compare-and-sets must be redone (under the lock), never dropped."""
    stores = [redis_store(redis_url, key_prefix), redis_store(redis_url, key_prefix)]
    try:
        await asyncio.gather(*(stores[i % 2].update("t:race", append(f"m{i}")) for i in range(50)))
        turns = (await stores[0].load("t:race")).turns
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    assert sorted(t.text for t in turns) == sorted(f"m{i}" for i in range(50))


@needs_redis_server
async def test_an_update_racing_a_lock_holder_loses_neither_change(private_redis: str) -> None:
    """The update reads and swaps while another process holds `lock()` between its load and its
    save: the swap must refuse (the holder's save would overwrite it) and redo it after."""
    holder, updater = redis_store(private_redis), redis_store(private_redis)
    stats = aioredis.Redis.from_url(private_redis)
    try:
        await updater.update("t:warm", append("warm"))  # the swap script is known from here on
        async with holder.lock("t:chat"):
            session = await holder.load("t:chat")
            swaps = (await command_calls(stats)).get("evalsha", 0)
            update = asyncio.create_task(updater.update("t:chat", append("from update")))

            async def swapped() -> None:
                while (await command_calls(stats)).get("evalsha", 0) == swaps:
                    await asyncio.sleep(0.01)

            # Redis has run the update's swap; only then does the holder write. (The bound is
            # for an update that never swaps, which would otherwise wait here for good.)
            await asyncio.wait_for(swapped(), 10)
            session.add_turn(Turn("user", "from holder", "u"), 100, 100_000)
            await holder.save("t:chat", session)
        returned = await asyncio.wait_for(update, 30)
        stored = await holder.load("t:chat")
    finally:
        await asyncio.gather(holder.close(), updater.close(), stats.aclose())
    assert [t.text for t in stored.turns] == ["from holder", "from update"]
    assert returned == stored  # the change was redone on the fresh session, not the stale one


@needs_redis_server
async def test_an_uncontended_update_is_one_get_and_one_swap(private_redis: str) -> None:
    """The store's own commands, as its Redis (of this test alone) logged them: the slow log at
    threshold 0 logs every command with its client's name, but not the script's inner calls;
    so no lock SET NX, no release script, no separate SET."""
    stats = aioredis.Redis.from_url(private_redis)
    store = RedisSessionStore(
        SessionSettings(backend="redis", url=private_redis, key_prefix="t"),
        client=aioredis.Redis.from_url(private_redis, client_name="store"),
    )
    try:
        await store.update("t:warm", append("warm"))  # connects and loads the swap script
        await stats.config_set("slowlog-log-slower-than", 0)
        await stats.slowlog_reset()
        returned = await store.update("t:quiet", append("hello"))
        logged = await stats.slowlog_get(100)
        ttl = await stats.ttl(store.key("t:quiet"))
        stored = await store.load("t:quiet")
    finally:
        await asyncio.gather(store.close(), stats.aclose())
    key = store.key("t:quiet")
    ours = [e["command"].decode().split() for e in reversed(logged) if e["client_name"] == b"store"]
    # EVALSHA <sha> <number of keys> <keys...> <args...>: compare the command and its keys.
    assert [c[:1] + c[3:5] if c[0] == "EVALSHA" else c for c in ours] == [
        ["GET", key],
        ["EVALSHA", key, f"{key}:lock"],
    ]
    assert [t.text for t in stored.turns] == ["hello"] and returned == stored
    assert 0 < ttl <= SessionSettings().ttl_seconds


async def store_commands(
    private_redis: str, run: Callable[[RedisSessionStore, RedisSessionStore], object]
) -> list[list[str]]:
    """What the named store (not the other one) sent while `run` ran, as the slow log has it."""
    stats = aioredis.Redis.from_url(private_redis)
    store, other = (
        RedisSessionStore(
            SessionSettings(backend="redis", url=private_redis, key_prefix="t"),
            client=aioredis.Redis.from_url(private_redis, client_name=name),
        )
        for name in ("store", "other")
    )
    try:
        await store.update("t:warm", append("warm"))  # connects and loads the swap script
        await stats.config_set("slowlog-log-slower-than", 0)
        await stats.slowlog_reset()
        await run(store, other)  # type: ignore[misc]
        logged = await stats.slowlog_get(100)
    finally:
        await asyncio.gather(store.close(), other.close(), stats.aclose())
    ours = [e["command"].decode().split() for e in reversed(logged) if e["client_name"] == b"store"]
    return [c[:1] for c in ours]


@needs_redis_server
async def test_an_update_after_this_messages_load_is_one_round_trip(private_redis: str) -> None:
    async def run(store: RedisSessionStore, other: RedisSessionStore) -> None:
        await store.load("t:chat")  # the start of a message
        await store.update("t:chat", append("answer"))  # its end
        await store.update("t:chat", append("again"))  # its own write is the base now
        assert [t.text for t in (await other.load("t:chat")).turns] == ["answer", "again"]

    assert await store_commands(private_redis, run) == [["GET"], ["EVALSHA"], ["EVALSHA"]]


@needs_redis_server
async def test_an_update_whose_read_is_stale_reads_again_and_keeps_both(
    private_redis: str,
) -> None:
    async def run(store: RedisSessionStore, other: RedisSessionStore) -> None:
        await store.load("t:chat")
        await other.update("t:chat", append("from another process"))  # after our read
        returned = await store.update("t:chat", append("ours"))
        stored = await other.load("t:chat")
        assert [t.text for t in stored.turns] == ["from another process", "ours"]
        assert returned == stored

    assert await store_commands(private_redis, run) == [
        ["GET"],  # load
        ["EVALSHA"],  # refused: the value changed since the read
        ["GET"],
        ["EVALSHA"],
    ]


async def test_update_with_redis_down_answers_without_history_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="orchestrator.sessions.redis_store")
    store = RedisSessionStore(
        SessionSettings(
            backend="redis",
            url=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            connect_timeout_seconds=0.2,
            command_timeout_seconds=0.2,
        )
    )
    try:
        first = await store.update("t:down", append("one"))
        second = await store.update("t:down", append("two"))
    finally:
        await store.close()
    assert [t.text for t in first.turns] == ["one"]
    assert [t.text for t in second.turns] == ["two"]
    warnings = [r for r in caplog.records if "redis_unavailable" in r.getMessage()]
    assert len(warnings) == 1
