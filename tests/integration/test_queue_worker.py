"""The queue's exactly-once points on a real Redis, with a worker in this process running the real
core (the fake OpenAI server as its model) and posting through the real python-telegram-bot `Bot`
to the fake Bot API; scheduled runs enqueued as the scheduler does in distributed mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from bots.telegram.sender import TelegramSender
from orchestrator.app import build_orchestrator
from orchestrator.config import ScaleSettings, TelegramSettings, parse_config
from orchestrator.core import Orchestrator
from orchestrator.errors import ConfigError
from orchestrator.messages import ChatMessage, Reply
from orchestrator.queue.job import message_job
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.outbox import RedisOutbox
from orchestrator.queue.producer import RedisJobQueue
from orchestrator.queue.scheduled import queued_runner, scheduled_job
from orchestrator.queue.worker import Worker
from orchestrator.scheduling.parse import parse_when
from orchestrator.scheduling.store import Schedule
from tests.fakes.openai_server import FakeOpenAI, text
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import eventually

SETTINGS = ScaleSettings(mode="distributed", partitions=4, lease_seconds=3, block_ms=100)


ANSWER = "Task created: t1."


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    """The fake model: how many requests it had is how often the core ran a job."""
    with FakeOpenAI(default=text(ANSWER)) as server:
        yield server


@pytest.fixture
async def core(llm: FakeOpenAI) -> AsyncIterator[Orchestrator]:
    """The real core a worker runs (`build_worker` hands it `orchestrator.handle`)."""
    config = parse_config(
        "orchestrator:\n"
        f"  llm_settings: {{base_url: '{llm.base_url}', api_key: k, max_retries: 0}}\n"
        "  memory_system: {type: none}\n"
        "scheduler: {enabled: false}\n",
        env={},
    )
    bot = build_orchestrator(config)
    await bot.start()
    yield bot
    await bot.stop()


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
    client: aioredis.Redis, keys: QueueKeys, core: Orchestrator, sender: TelegramSender
) -> tuple[Worker, asyncio.Event, asyncio.Task[None]]:
    outbox = RedisOutbox(client, keys, 600)
    worker = Worker(
        client, keys, SETTINGS, core.handle, {"telegram": sender}, outbox, "test-worker"
    )
    stop = asyncio.Event()
    return worker, stop, asyncio.create_task(worker.run(stop))


def message(text: str, message_id: int = 7) -> ChatMessage:
    return ChatMessage("telegram", "-100", "1", text, message_id=str(message_id))


async def test_a_send_the_platform_refused_is_retried_without_running_the_request_again(
    fake: FakeTelegram,
    sender: TelegramSender,
    redis_client: aioredis.Redis,
    key_prefix: str,
    core: Orchestrator,
    llm: FakeOpenAI,
) -> None:
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    await RedisJobQueue(redis_client, keys, 600).enqueue_message(message("create the task"))
    fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    worker, stop, task = await run_worker(redis_client, keys, core, sender)
    try:
        assert await eventually(lambda: worker.done == 1, 30)
    finally:
        stop.set()
        await task
    answers = [p for p in fake.sent() if ANSWER in p["text"]]
    assert len(answers) == 2  # refused once, then delivered
    assert answers[-1]["reply_parameters"]["message_id"] == 7
    assert "create the task" in str(llm.requests[0]["body"]["messages"])
    assert len(llm.requests) == 1  # the retry posted the recorded answer


async def test_a_part_a_dead_worker_claimed_is_not_posted_twice(
    fake: FakeTelegram,
    sender: TelegramSender,
    redis_client: aioredis.Redis,
    key_prefix: str,
    core: Orchestrator,
    llm: FakeOpenAI,
) -> None:
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    job = message_job(message("weekly report"))
    outbox = RedisOutbox(redis_client, keys, 600)
    # What a worker killed mid-send leaves behind: the answer recorded, its part claimed.
    await outbox.result(job.id, [Reply("the report")])
    await outbox.claim_part(job.id, 0)
    await RedisJobQueue(redis_client, keys, 600).enqueue(job)
    worker, stop, task = await run_worker(redis_client, keys, core, sender)
    try:
        assert await eventually(lambda: worker.done == 1, 30)
    finally:
        stop.set()
        await task
    assert fake.sent() == [] and llm.requests == []  # the recorded answer: the core never ran
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


async def test_a_slot_fired_by_two_schedulers_is_queued_once_and_a_worker_posts_it(
    fake: FakeTelegram,
    sender: TelegramSender,
    redis_client: aioredis.Redis,
    key_prefix: str,
    core: Orchestrator,
    llm: FakeOpenAI,
) -> None:
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    run = queued_runner(RedisJobQueue(redis_client, keys, 600))
    slot = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    weekly = Schedule(
        id="wkrpt",
        platform="telegram",
        chat_id="-100",
        creator_id="1",
        creator_name="Ann",
        when_text="every monday at 9",
        when=parse_when("every monday at 9", ZoneInfo("UTC"), slot),
        what="weekly report",
        timezone="UTC",
        next_run_at=slot,
    )
    await run(weekly)
    await run(weekly)  # a second scheduler process fires the same slot
    queued = [await redis_client.xlen(keys.stream(p)) for p in range(SETTINGS.partitions)]
    assert sum(queued) == 1
    assert scheduled_job(weekly).id == f"schedule:wkrpt:{int(slot.timestamp())}"
    next_week = replace(weekly, next_run_at=slot + timedelta(days=7))
    assert scheduled_job(next_week).id != scheduled_job(weekly).id  # each slot its own job

    worker, stop, task = await run_worker(redis_client, keys, core, sender)
    try:
        assert await eventually(lambda: worker.done == 1, 30)
    finally:
        stop.set()
        await task
    texts = [p["text"] for p in fake.sent() if p["chat_id"] in (-100, "-100")]
    assert any(t.startswith("Scheduled wkrpt: weekly report") for t in texts), texts
    assert len([t for t in texts if ANSWER in t]) == 1
    assert len(llm.requests) == 1 and "weekly report" in str(llm.requests[0]["body"]["messages"])
