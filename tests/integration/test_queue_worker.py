"""The queue's exactly-once points on a real Redis, with a worker in this process posting through
the real python-telegram-bot `Bot` to the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bots.telegram_sender import TelegramSender
from orchestrator.config import ScaleSettings, TelegramSettings, parse_config
from orchestrator.errors import ConfigError
from orchestrator.messages import ChatMessage, Reply
from orchestrator.queue.job import message_job
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.outbox import RedisOutbox
from orchestrator.queue.producer import RedisJobQueue
from orchestrator.queue.worker import Worker
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import eventually

SETTINGS = ScaleSettings(mode="distributed", partitions=4, lease_seconds=3, block_ms=100)


class Counted:
    """The request side of a job: counts how often the worker ran it."""

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self, message: ChatMessage) -> list[Reply]:
        self.runs += 1
        return [Reply(f"answer to {message.text}")]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def sender(fake: FakeTelegram) -> AsyncIterator[TelegramSender]:
    sender = TelegramSender(TelegramSettings(token=fake.token, base_url=fake.base_url))
    await sender.start()
    yield sender
    await sender.close()


async def run_worker(
    client: aioredis.Redis, keys: QueueKeys, handle: Counted, sender: TelegramSender
) -> tuple[Worker, asyncio.Event, asyncio.Task[None]]:
    outbox = RedisOutbox(client, keys, 600)
    worker = Worker(client, keys, SETTINGS, handle, {"telegram": sender}, outbox, "test-worker")
    stop = asyncio.Event()
    return worker, stop, asyncio.create_task(worker.run(stop))


def message(text: str, message_id: int = 7) -> ChatMessage:
    return ChatMessage("telegram", "-100", "1", text, message_id=str(message_id))


async def test_a_send_the_platform_refused_is_retried_without_running_the_request_again(
    fake: FakeTelegram, sender: TelegramSender, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    await RedisJobQueue(redis_client, keys, 600).enqueue_message(message("create the task"))
    fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    handle = Counted()
    worker, stop, task = await run_worker(redis_client, keys, handle, sender)
    try:
        assert await eventually(lambda: worker.done == 1, 15)
    finally:
        stop.set()
        await task
    assert len(fake.sent()) == 2  # refused once, then delivered
    assert fake.sent()[-1]["text"] == "answer to create the task"
    assert fake.sent()[-1]["reply_parameters"]["message_id"] == 7
    assert handle.runs == 1  # the retry posted the recorded answer


async def test_a_part_a_dead_worker_claimed_is_not_posted_twice(
    fake: FakeTelegram, sender: TelegramSender, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    job = message_job(message("weekly report"))
    outbox = RedisOutbox(redis_client, keys, 600)
    # What a worker killed mid-send leaves behind: the answer recorded, its part claimed.
    await outbox.result(job.id, [Reply("the report")])
    await outbox.claim_part(job.id, 0)
    await RedisJobQueue(redis_client, keys, 600).enqueue(job)
    handle = Counted()
    worker, stop, task = await run_worker(redis_client, keys, handle, sender)
    try:
        assert await eventually(lambda: worker.done == 1, 15)
    finally:
        stop.set()
        await task
    assert fake.sent() == [] and handle.runs == 0
    unconfirmed = await redis_client.xrange(keys.unconfirmed)
    assert [f[b"job"].decode() for _, f in unconfirmed] == [job.id]


async def test_the_same_event_delivered_twice_is_queued_once(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    queue = RedisJobQueue(redis_client, keys, 600)
    first = await queue.enqueue_message(message("hello", 9))
    second = await queue.enqueue_message(message("hello", 9))
    other = await queue.enqueue_message(message("hello", 10))
    assert (first, second, other) == (True, False, True)
    stream = keys.stream(keys.partition_of("telegram:-100"))
    assert await redis_client.xlen(stream) == 2


def test_distributed_mode_needs_redis_and_single_stays_the_default() -> None:
    assert parse_config("{}", env={}).scale.mode == "single"
    with pytest.raises(ConfigError) as info:
        parse_config("scale: {mode: distributed}\nscheduler: {enabled: false}", env={})
    assert "Redis" in " ".join(info.value.problems)
    config = parse_config(
        "scale: {mode: distributed}\nsessions: {backend: redis, url: 'redis://x:6379/0'}\n"
        "scheduler: {store: redis}\norchestrator: {memory_system: {type: none}}",
        env={},
    )
    assert config.queue_url == "redis://x:6379/0"
