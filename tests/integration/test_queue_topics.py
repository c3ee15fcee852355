"""Distributed mode keeps the topic: a message from a Telegram forum topic, queued by a front end
and answered by a worker through the real `Bot`, lands in that topic."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bots.telegram_sender import TelegramSender
from orchestrator.config import TelegramSettings
from orchestrator.messages import ChatMessage
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.producer import RedisJobQueue
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import eventually
from tests.integration.test_queue_worker import SETTINGS, Counted, run_worker


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


async def test_a_queued_message_from_a_topic_is_answered_in_it(
    fake: FakeTelegram, sender: TelegramSender, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    fake.topics.add(-100, 77)
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    asked = ChatMessage("telegram", "-100", "1", "weekly report", message_id="7", thread_id="77")
    await RedisJobQueue(redis_client, keys, 600).enqueue_message(asked)
    worker, stop, task = await run_worker(redis_client, keys, Counted(), sender)
    try:
        assert await eventually(lambda: worker.done == 1, 15)
    finally:
        stop.set()
        await task
    [answer] = fake.sent()
    assert answer["text"] == "answer to weekly report"
    assert answer["message_thread_id"] == 77
