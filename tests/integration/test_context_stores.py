"""One contract for both context stores (in-process, Redis): bounded by count and age, per
conversation, cleared on demand; Redis down means no context, never a failed request; and two
processes on one Redis share a chat's context (a front end keeps it, a worker reads it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.context.base import ContextBounds, ContextLine, ContextStore
from orchestrator.context.in_process import InProcessContextStore
from orchestrator.context.redis_store import RedisContextStore
from orchestrator.messages import ChatMessage
from tests.fakes.openai_server import FakeOpenAI, text

BOUNDS = ContextBounds(max_messages=3, max_age_seconds=600)


@pytest.fixture(params=["inprocess", "redis"])
async def store(
    request: pytest.FixtureRequest, redis_url: str, key_prefix: str, redis_client: object
) -> AsyncIterator[ContextStore]:
    if request.param == "inprocess":
        yield InProcessContextStore()
        return
    s = RedisContextStore(aioredis.Redis.from_url(redis_url), key_prefix)
    yield s
    await s.close()


def line(text: str, at: float, author: str = "Ann") -> ContextLine:
    return ContextLine(author, text, at)


async def test_newest_lines_are_kept_oldest_first_within_count(store: ContextStore) -> None:
    for i in range(5):
        await store.add("t:1", line(f"m{i}", 1000.0 + i), BOUNDS)
    await store.add("t:2", line("elsewhere", 1000.0), BOUNDS)
    kept = await store.recent("t:1", BOUNDS, now=1010.0)
    assert [x.text for x in kept] == ["m2", "m3", "m4"]
    assert kept[0] == line("m2", 1002.0)
    assert [x.text for x in await store.recent("t:2", BOUNDS, now=1010.0)] == ["elsewhere"]


async def test_lines_older_than_the_age_bound_are_left_out(store: ContextStore) -> None:
    await store.add("t:1", line("old", 1000.0), BOUNDS)
    await store.add("t:1", line("new", 1500.0, "Bob"), BOUNDS)
    assert [x.text for x in await store.recent("t:1", BOUNDS, now=1601.0)] == ["new"]
    assert await store.recent("t:1", BOUNDS, now=2101.0) == []


async def test_clear_drops_one_conversation_only(store: ContextStore) -> None:
    await store.add("t:1", line("a", 1000.0), BOUNDS)
    await store.add("t:1", line("b", 1000.0), BOUNDS)
    await store.add("t:2", line("c", 1000.0), BOUNDS)
    assert await store.clear("t:1") == 2
    assert await store.clear("t:1") == 0
    assert await store.recent("t:1", BOUNDS, now=1001.0) == []
    assert len(await store.recent("t:2", BOUNDS, now=1001.0)) == 1


async def test_a_redelivered_message_is_kept_once(store: ContextStore) -> None:
    await store.add("t:1", ContextLine("Ann", "hello", 1000.0, "m1"), BOUNDS)
    await store.add("t:1", ContextLine("Ann", "hello", 1001.0, "m1"), BOUNDS)
    await store.add("t:1", ContextLine("Ann", "hello again", 1002.0, "m2"), BOUNDS)
    await store.add("t:2", ContextLine("Ann", "same id, other chat", 1002.0, "m1"), BOUNDS)
    kept = await store.recent("t:1", BOUNDS, now=1003.0)
    assert [(x.text, x.id) for x in kept] == [("hello", "m1"), ("hello again", "m2")]
    assert len(await store.recent("t:2", BOUNDS, now=1003.0)) == 1


async def test_an_edited_message_replaces_its_kept_text_in_place(store: ContextStore) -> None:
    await store.add("t:1", ContextLine("Ann", "ship on Monday", 1000.25, "m1"), BOUNDS)
    await store.add("t:1", ContextLine("Bob", "ok", 1001.0, "m2"), BOUNDS)
    edited = ContextLine("Ann B.", "ship on Tuesday ✅ (see /docs)", 1500.0, "m1")
    assert await store.replace("t:1", edited)
    assert not await store.replace("t:1", ContextLine("Ann", "never kept", 1500.0, "m9"))
    assert not await store.replace("t:2", edited)  # another conversation keeps its own
    kept = await store.recent("t:1", BOUNDS, now=1002.0)
    assert kept == [ContextLine("Ann B.", "ship on Tuesday ✅ (see /docs)", 1000.25, "m1"), kept[1]]
    assert kept[1].text == "ok"


async def test_redis_lines_expire_with_the_age_bound(
    redis_url: str, key_prefix: str, redis_client: aioredis.Redis
) -> None:
    s = RedisContextStore(aioredis.Redis.from_url(redis_url), key_prefix)
    await s.add("t:1", line("a", 1000.0), ContextBounds(3, 90.5))
    ttl = await redis_client.ttl(f"{key_prefix}:context:t:1")
    await s.close()
    assert 0 < ttl <= 91


async def test_redis_down_keeps_nothing_and_raises_nothing() -> None:
    s = RedisContextStore(aioredis.Redis.from_url("redis://127.0.0.1:1/0"), "x")
    await s.add("t:1", line("a", 1000.0), BOUNDS)
    assert await s.recent("t:1", BOUNDS, now=1001.0) == []
    assert await s.clear("t:1") == 0
    await s.close()


async def test_two_processes_on_one_redis_share_a_chats_context(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    with FakeOpenAI(default=text("ok")) as llm:
        yaml = (
            f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
            "  memory_system: {type: none}\n  tool_routing: {strategy: all}\n"
            "scheduler: {enabled: false}\n"
            f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: {key_prefix}}}\n"
        )
        front, worker = (build_orchestrator(parse_config(yaml, env={})) for _ in range(2))
        await front.start()
        await worker.start()
        try:
            await front.observe(ChatMessage("telegram", "-1", "2", "deploy at 5", user_name="Bob"))
            await worker.handle(ChatMessage("telegram", "-1", "1", "when?", user_name="Ann"))
        finally:
            await front.stop()
            await worker.stop()
    prompt = llm.requests[-1]["body"]["messages"][-1]["content"]
    assert "Bob: deploy at 5" in prompt and prompt.endswith("Ann: when?")
