"""A Discord message cut off by a crash is answered once when the adapter next starts.

The crash is what a dead process leaves in the real Redis delivery store: a claimed, recorded
request (maybe with its replies computed and some parts sent) whose lease has run out. The
real discord.py client, driven by dpytest, then receives READY and resumes it through the
HTTP API; a second start finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import discord
import discord.ext.test as dpytest
import pytest
import redis.asyncio as aioredis

from bots.discord_bot import OrchestratorBot, message_payload
from orchestrator.app import build_orchestrator
from orchestrator.config import DiscordSettings, parse_config
from orchestrator.core import Orchestrator
from orchestrator.delivery.base import InboundRequest
from orchestrator.delivery.redis_store import RedisDeliveryStore
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from tests.fakes.openai_server import FakeOpenAI, text
from tests.helpers import eventually

ANSWER = "Deploy is green."
LEASE = 0.3


def redis_orchestrator(llm_url: str, redis_url: str, prefix: str) -> Orchestrator:
    return build_orchestrator(
        parse_config(
            "orchestrator:\n  name: resumebot\n"
            f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
            "  memory_system: {type: none}\n"
            "scheduler: {enabled: false}\n"
            f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: '{prefix}'}}\n"
            f"delivery: {{lease_seconds: {LEASE}}}\n",
            env={},
        )
    )


async def new_bot(orchestrator: Orchestrator) -> OrchestratorBot:
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    client = OrchestratorBot(DiscordSettings(sync="none"), orchestrator, intents=intents)
    await client._async_setup_hook()
    dpytest.configure(client, members=2)
    return client


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    with FakeOpenAI(default=text(ANSWER)) as fake:
        yield fake


async def leave_behind(
    redis_url: str, prefix: str, channel_id: int, *, replies: list[Reply] | None = None
) -> str:
    """Record a request as a process that then died would have: claimed, opened under its own
    lease (which nobody renews), optionally with its replies computed and the first part sent."""
    store = RedisDeliveryStore(
        aioredis.Redis.from_url(redis_url),
        f"{prefix}:resumebot",
        lease_seconds=LEASE,
    )
    member = dpytest.get_config().members[0]
    message = ChatMessage(
        "discord", str(channel_id), str(member.id), "how is the deploy?", "Ann", "987654321"
    )
    key = "discord:message:987654321"
    assert await store.claim(key)
    await store.open(
        InboundRequest(key, "discord", message_payload(channel_id, message)), "discord-dead"
    )
    if replies is not None:
        await store.save_replies(key, replies)
        await store.mark_sent(key, "0.0", "111")
    await store.close()
    return key


async def shut_down(bot: OrchestratorBot, orchestrator: Orchestrator) -> None:
    """Each step bounded: a step that hangs fails the test naming itself (and keeps the
    assertion that failed before it in the report) instead of running into the suite's
    timeout with neither."""
    await asyncio.wait_for(bot.inflight.stop(), 10)
    await asyncio.wait_for(dpytest.empty_queue(), 10)
    await asyncio.wait_for(orchestrator.stop(), 30)


def sent_now() -> list[str]:
    contents = []
    while not dpytest.sent_queue.empty():
        contents.append(dpytest.get_message().content)
    return contents


async def test_a_message_cut_off_by_a_crash_is_answered_once_on_the_next_start(
    llm: FakeOpenAI,
    redis_url: str,
    key_prefix: str,
    redis_client: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="orchestrator.delivery.inflight")
    orchestrator = redis_orchestrator(llm.base_url, redis_url, key_prefix)
    await orchestrator.start()
    bot = await new_bot(orchestrator)
    channel = dpytest.get_config().channels[0]
    try:
        key = await leave_behind(redis_url, key_prefix, channel.id)
        assert dpytest.verify().message().nothing()
        bot.dispatch("ready")  # the gateway's READY: the adapter has started
        assert await eventually(lambda: dpytest.sent_queue.qsize() >= 2, 10), (
            f"sent {dpytest.sent_queue.qsize()} of 2; model asked {len(llm.requests)} times"
        )
        answer = dpytest.get_message()
        assert answer.content == ANSWER and answer.channel.id == channel.id
        assert dpytest.get_message().content.startswith("-# Summary")
        assert llm.requests[0]["body"]["messages"][-1]["content"].endswith("how is the deploy?")
        assert await eventually(lambda: not bot.inflight._held)
        store = orchestrator.services.delivery
        assert store is not None
        assert await store.get(key) is None  # finished
        assert await store.orphans("discord") == []
        await bot.inflight.stop()

        second = await new_bot(orchestrator)  # the next start finds nothing to resume
        second.dispatch("ready")
        assert await second.inflight.recover(second.resume) == 0
        await second.inflight.stop()
        assert dpytest.verify().message().nothing()
        assert len(llm.requests) == 1
    finally:
        await shut_down(bot, orchestrator)
    assert "request_resumed platform=discord key=discord:message:987654321" in caplog.text


async def test_a_resumed_message_sends_only_the_parts_still_missing(
    llm: FakeOpenAI, redis_url: str, key_prefix: str, redis_client: object
) -> None:
    orchestrator = redis_orchestrator(llm.base_url, redis_url, key_prefix)
    await orchestrator.start()
    bot = await new_bot(orchestrator)
    channel = dpytest.get_config().channels[0]
    computed = [Reply("The report, part one."), Reply("Summary: 1 step", ReplyKind.SUMMARY)]
    try:
        await leave_behind(redis_url, key_prefix, channel.id, replies=computed)
        bot.dispatch("ready")
        assert await eventually(lambda: not dpytest.sent_queue.empty(), 10)
        assert await eventually(lambda: not bot.inflight._held)
        assert sent_now() == ["-# Summary: 1 step"]  # part one was out before the crash
        assert llm.requests == []  # its replies were computed: the agent does not run again
    finally:
        await shut_down(bot, orchestrator)


async def test_a_message_handled_live_is_recorded_with_what_a_resume_needs(
    llm: FakeOpenAI, redis_url: str, key_prefix: str, redis_client: object
) -> None:
    """The payload `on_message` records is the one `resume` reads (not just a channel id)."""
    orchestrator = redis_orchestrator(llm.base_url, redis_url, key_prefix)
    await orchestrator.start()
    bot = await new_bot(orchestrator)
    store = orchestrator.services.delivery
    assert isinstance(store, RedisDeliveryStore)
    seen: list[InboundRequest] = []
    finish = store.finish

    async def spy_finish(key: str) -> None:  # read the record just before it is dropped
        request = await store.get(key)
        if request is not None:
            seen.append(request)
        await finish(key)

    store.finish = spy_finish  # type: ignore[method-assign]
    try:
        message = await dpytest.message(f"<@{bot.user.id}> how is the deploy?")
        assert dpytest.get_message().content == ANSWER
    finally:
        await asyncio.wait_for(dpytest.empty_queue(), 10)
        await asyncio.wait_for(orchestrator.stop(), 30)
    (request,) = seen
    assert request.payload["text"] == "how is the deploy?"
    assert request.payload["message_id"] == str(message.id)
    assert request.payload["channel"] == message.channel.id
    assert request.replies is not None and request.replies[0]["text"] == ANSWER
    assert set(request.sent) == {"0.0", "1.0"}
