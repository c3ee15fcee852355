"""A Discord message cut off by a crash is answered once when the adapter next starts.

The crash is what a dead process leaves in the real Redis delivery store: a claimed, recorded
request (maybe with its replies computed and some parts sent) whose owner no longer beats. The
real discord.py client, logged in through the fake Discord REST API (tests/discord_wire.py),
then receives READY and resumes it through the HTTP API, replying to the original message;
a second start finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from bots.discord.resume import message_payload, press_payload
from orchestrator.app import build_orchestrator
from orchestrator.commands.registry import CommandContext
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from orchestrator.delivery.base import InboundRequest
from orchestrator.delivery.redis_store import RedisDeliveryStore
from orchestrator.messages import ChatMessage, Choice, Reply, ReplyKind
from tests.discord_wire import ANN, BOT_USER, GENERAL, DiscordWire, discord_wire
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.openai_server import FakeOpenAI, text

ANSWER = "Deploy is green."
# A lease a loaded machine cannot run out by accident: the dead process is recognised by its
# liveness key, which it stopped renewing (DEAD_ALIVE), not by its lease expiring.
LEASE = 30
DEAD_ALIVE = 0.2


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


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    with FakeOpenAI(default=text(ANSWER)) as fake:
        yield fake


def dead_store(redis_url: str, prefix: str) -> RedisDeliveryStore:
    """The delivery store as a process that then died used it."""
    return RedisDeliveryStore(
        aioredis.Redis.from_url(redis_url),
        f"{prefix}:resumebot",
        lease_seconds=LEASE,
        alive_seconds=DEAD_ALIVE,  # its liveness key lapses at once: a dead process
    )


async def leave_behind(
    wire: DiscordWire, redis_url: str, prefix: str, *, replies: list[Reply] | None = None
) -> tuple[str, str]:
    """Ann's question, and its request as a process that then died would have left it: claimed,
    opened under its own lease (which nobody renews), optionally with its replies computed and
    the first part sent. The key and the question's id."""
    asked = wire.api.user_message(GENERAL, ANN, f"<@{BOT_USER['id']}> how is the deploy?")
    channel_id = int(GENERAL)
    store = dead_store(redis_url, prefix)
    message = ChatMessage("discord", GENERAL, ANN["id"], "how is the deploy?", "Ann", asked["id"])
    key = f"discord:message:{asked['id']}"
    assert await store.claim(key)
    await store.open(
        InboundRequest(key, "discord", message_payload(channel_id, message)), "discord-dead"
    )
    if replies is not None:
        await store.save_replies(key, replies)
        await store.mark_sent(key, "0.0", "111")
    await store.close()
    return key, asked["id"]


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
    try:
        async with FakeDiscord() as api:
            async with discord_wire(orchestrator, api=api) as wire:
                key, asked = await leave_behind(wire, redis_url, key_prefix)
                assert wire.sent() == []
                wire.bot.dispatch("ready")  # the gateway's READY: the adapter has started
                answer, summary = await wire.sent_at_least(2, GENERAL)
                assert answer["content"] == ANSWER
                assert answer["message_reference"]["message_id"] == asked  # the original, by id
                assert summary["content"].startswith("-# Summary")
                assert llm.requests[0]["body"]["messages"][-1]["content"].endswith(
                    "how is the deploy?"
                )
                await wire.until(lambda: not wire.bot.inflight._held)
                store = orchestrator.services.delivery
                assert store is not None
                assert await store.get(key) is None  # finished
                assert await store.orphans("discord") == []
                assert wire.refusals() == []
            async with discord_wire(orchestrator, api=api) as second:  # the next start
                second.bot.dispatch("ready")
                assert await second.bot.inflight.recover(second.bot.resume) == 0
            assert len(second.sent()) == 2  # nothing more was sent
        assert len(llm.requests) == 1
    finally:
        await asyncio.wait_for(orchestrator.stop(), 30)
    assert f"request_resumed platform=discord key={key}" in caplog.text


async def test_a_resumed_message_sends_only_the_parts_still_missing(
    llm: FakeOpenAI, redis_url: str, key_prefix: str, redis_client: object
) -> None:
    orchestrator = redis_orchestrator(llm.base_url, redis_url, key_prefix)
    await orchestrator.start()
    computed = [Reply("The report, part one."), Reply("Summary: 1 step", ReplyKind.SUMMARY)]
    try:
        async with discord_wire(orchestrator) as wire:
            await leave_behind(wire, redis_url, key_prefix, replies=computed)
            wire.bot.dispatch("ready")
            await wire.sent_at_least(1, GENERAL)
            await wire.until(lambda: not wire.bot.inflight._held)
            # part one was out before the crash: only the summary is missing
            assert [m["content"] for m in wire.sent()] == ["-# Summary: 1 step"]
            assert llm.requests == []  # its replies were computed: the agent does not run again
    finally:
        await asyncio.wait_for(orchestrator.stop(), 30)


async def test_a_message_handled_live_is_recorded_with_what_a_resume_needs(
    llm: FakeOpenAI, redis_url: str, key_prefix: str, redis_client: object
) -> None:
    """The payload `on_message` records is the one `resume` reads (not just a channel id)."""
    orchestrator = redis_orchestrator(llm.base_url, redis_url, key_prefix)
    await orchestrator.start()
    seen = finished_records(orchestrator)
    try:
        async with discord_wire(orchestrator) as wire:
            message = wire.message("how is the deploy?", mention=True)
            answer, _summary = await wire.sent_at_least(2, GENERAL)
            assert answer["content"] == ANSWER
            await wire.until(lambda: bool(seen))
    finally:
        await asyncio.wait_for(orchestrator.stop(), 30)
    (request,) = seen
    assert request.payload["text"] == "how is the deploy?"
    assert request.payload["message_id"] == message["id"]
    assert request.payload["channel"] == int(GENERAL)
    assert request.replies is not None and request.replies[0]["text"] == ANSWER
    assert set(request.sent) == {"0.0", "1.0"}


def finished_records(orchestrator: Orchestrator) -> list[InboundRequest]:
    """The records the delivery store drops from now on, each read just before it goes."""
    store = orchestrator.services.delivery
    assert isinstance(store, RedisDeliveryStore)
    seen: list[InboundRequest] = []
    finish = store.finish

    async def spy_finish(key: str) -> None:
        request = await store.get(key)
        if request is not None:
            seen.append(request)
        await finish(key)

    store.finish = spy_finish  # type: ignore[method-assign]
    return seen


def counting(orchestrator: Orchestrator) -> list[str]:
    """A `/count` command that records who ran it (each run proves one execution)."""
    ran: list[str] = []

    async def count(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        ran.append(ctx.message.user_id)
        return [Reply(f"counted {len(ran)}")]

    orchestrator.commands.command("count", "counts its runs")(count)
    return ran


async def test_a_press_cut_off_by_a_crash_after_its_buttons_went_is_answered_once(
    llm: FakeOpenAI, redis_url: str, key_prefix: str, redis_client: object
) -> None:
    """The process acknowledged Ann's press (the buttons are gone, so she cannot press again)
    and died before answering: the next start runs the press once and answers in the channel,
    replying to the question; a start after that finds nothing left."""
    orchestrator = redis_orchestrator(llm.base_url, redis_url, key_prefix)
    ran = counting(orchestrator)
    await orchestrator.start()
    try:
        async with FakeDiscord() as api:
            async with discord_wire(orchestrator, api=api) as wire:
                reply = Reply("Count?", choices=(Choice("Count", "/count"),), for_user_id=ANN["id"])
                await wire.bot.send(GENERAL, [reply])
                (question,) = await wire.sent_at_least(1, GENERAL)
                pressed = ChatMessage("discord", GENERAL, ANN["id"], "/count", "Ann")
                key = "discord:interaction:99"
                store = dead_store(redis_url, key_prefix)
                assert await store.claim(key)
                payload = press_payload(int(GENERAL), pressed, question["id"])
                await store.open(InboundRequest(key, "discord", payload), "discord-dead")
                await store.close()
                wire.bot.dispatch("ready")
                _question, answer = await wire.sent_at_least(2, GENERAL)
                assert answer["content"] == "counted 1"
                assert answer["message_reference"]["message_id"] == question["id"]
                await wire.until(lambda: not wire.bot.inflight._held)
                assert await orchestrator.services.delivery.get(key) is None  # type: ignore[union-attr]
            async with discord_wire(orchestrator, api=api) as second:  # the next start
                second.bot.dispatch("ready")
                assert await second.bot.inflight.recover(second.bot.resume) == 0
            assert len(second.sent(GENERAL)) == 2
        assert ran == [ANN["id"]]
    finally:
        await asyncio.wait_for(orchestrator.stop(), 30)


async def test_a_press_answered_live_is_recorded_with_what_a_resume_needs(
    llm: FakeOpenAI, redis_url: str, key_prefix: str, redis_client: object
) -> None:
    """An accepted press is recorded as a press of that question (before its buttons go), with
    its replies and each part once sent: what the resume above reads."""
    orchestrator = redis_orchestrator(llm.base_url, redis_url, key_prefix)
    counting(orchestrator)
    await orchestrator.start()
    seen = finished_records(orchestrator)
    try:
        async with discord_wire(orchestrator) as wire:
            reply = Reply("Count?", choices=(Choice("Count", "/count"),), for_user_id=ANN["id"])
            await wire.bot.send(GENERAL, [reply])
            (question,) = await wire.sent_at_least(1, GENERAL)
            pressed = wire.press(question, "Count", user=ANN)
            (answer,) = await wire.answered(pressed)
            assert answer["content"] == "counted 1" and question["components"] == []
            await wire.until(lambda: bool(seen))
    finally:
        await asyncio.wait_for(orchestrator.stop(), 30)
    (request,) = seen
    assert request.payload["kind"] == "press" and request.payload["question"] == question["id"]
    assert request.payload["text"] == "/count" and request.payload["user_id"] == ANN["id"]
    assert request.payload["channel"] == int(GENERAL)
    assert request.replies is not None and request.replies[0]["text"] == "counted 1"
    assert set(request.sent) == {"0.0"}
