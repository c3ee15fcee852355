"""Reactions in distributed mode: a worker on a real Redis, once a job's answer is posted, sets
👍 / 👎 (Telegram, through the real PTB `Bot` to the fake Bot API) or ✅ / ❌ with the front
end's 👀 taken off (Discord, through discord.py's HTTP client to the fake REST API); a chat can
opt out, a scheduled run gets none, and a refused reaction never fails the job."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import discord
import pytest
import redis.asyncio as aioredis

from bots.discord.sender import DiscordSender
from bots.telegram.sender import TelegramSender
from orchestrator.app import build_orchestrator
from orchestrator.config import DiscordSettings, ScaleSettings, TelegramSettings, parse_config
from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.queue.base import ReplySender
from orchestrator.queue.job import Job, message_job
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.outbox import RedisOutbox
from orchestrator.queue.producer import RedisJobQueue
from orchestrator.queue.reactions import job_reactions
from orchestrator.queue.worker import Worker
from orchestrator.reactions import Outcome
from tests.discord_wire import ANN, REPORTS
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import eventually, running_bot

SETTINGS = ScaleSettings(mode="distributed", partitions=4, lease_seconds=3, block_ms=100)
CONFIG = parse_config("chats:\n  'telegram:-200': {reactions: false}\n", env={})


async def answer(message: ChatMessage) -> list[Reply]:
    if "fail" in message.text:
        return [Reply("That went wrong.", ReplyKind.ERROR)]
    return [Reply(f"answer to {message.text}")]


async def run_jobs(
    client: aioredis.Redis, prefix: str, sender: ReplySender, jobs: list[Job]
) -> None:
    keys = QueueKeys(prefix, SETTINGS.partitions)
    queue = RedisJobQueue(client, keys, 600)
    for job in jobs:
        await queue.enqueue(job)
    senders = {sender.platform: sender}
    worker = Worker(
        client,
        keys,
        SETTINGS,
        answer,
        senders,
        RedisOutbox(client, keys, 600),
        "test-worker",
        job_reactions(lambda: CONFIG, senders),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        assert await eventually(lambda: worker.done == len(jobs), 15)
    finally:
        stop.set()
        await task


def asked(chat: str, text: str, message_id: int, platform: str = "telegram") -> Job:
    return message_job(ChatMessage(platform, chat, "1", text, message_id=str(message_id)))


async def test_a_worker_reacts_on_telegram_and_respects_opt_outs(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    async with FakeTelegram() as fake:
        sender = TelegramSender(TelegramSettings(token=fake.token, base_url=fake.base_url))
        await sender.start()
        scheduled = asked("-100", "scheduled stats", 13)
        scheduled = replace(scheduled, id="sched:1", header="Scheduled abc:")
        try:
            await run_jobs(
                redis_client,
                key_prefix,
                sender,
                [
                    asked("-100", "status", 11),
                    asked("-100", "please fail", 12),
                    asked("-200", "quiet chat", 14),
                    scheduled,
                ],
            )
        finally:
            await sender.close()
    assert fake.reactions(11) == ["👍"] and fake.reactions(12) == ["👎"]
    assert fake.reactions(14) == [] and fake.reactions(13) == []
    assert len(fake.sent()) == 5  # every answer went out (the scheduled one with its header)


async def test_a_refused_reaction_never_fails_the_job(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    async with FakeTelegram() as fake:
        fake.fail_next("setMessageReaction", 400, "Bad Request: REACTION_INVALID")
        sender = TelegramSender(TelegramSettings(token=fake.token, base_url=fake.base_url))
        await sender.start()
        try:
            await run_jobs(redis_client, key_prefix, sender, [asked("-100", "status", 21)])
        finally:
            await sender.close()
    assert len(fake.sent()) == 1 and len(fake.sent("setMessageReaction")) == 1


async def test_a_discord_worker_swaps_the_front_ends_eyes_for_a_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeDiscord() as api:
        monkeypatch.setattr(discord.http.Route, "BASE", api.base_url)
        sender = DiscordSender(DiscordSettings(token=api.token))
        await sender.start()
        try:
            message = api.user_message(REPORTS, ANN, "status?")
            api.reactions.current[message["id"]] = ["👀"]  # what the front end set
            await sender.react(REPORTS, message["id"], Outcome.DONE)
        finally:
            await sender.close()
    assert api.reactions.current[message["id"]] == ["✅"]
    assert api.reactions.history[message["id"]] == ["+✅", "-👀"]


async def test_a_front_end_reacts_eyes_when_it_queues_a_message(
    redis_url: str, key_prefix: str, redis_client: aioredis.Redis
) -> None:
    front = build_orchestrator(
        parse_config(
            "orchestrator:\n  memory_system: {type: none}\n  tool_routing: {strategy: all}\n"
            "scheduler: {enabled: false}\nscale: {mode: distributed, role: frontend}\n"
            f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: {key_prefix}}}\n",
            env={},
        )
    )
    async with FakeTelegram() as fake, running_bot(fake, front):
        fake.message_update(f"@{BOT_USERNAME} weekly report")
        queued = int(fake.updates[-1]["message"]["message_id"])
        assert await eventually(lambda: fake.reactions(queued) == ["👀"])
    keys = QueueKeys(key_prefix, front.config.scale.partitions)
    assert await redis_client.xlen(keys.stream(keys.partition_of("telegram:-100"))) == 1
    assert fake.sent() == []  # a worker answers, not the front end
