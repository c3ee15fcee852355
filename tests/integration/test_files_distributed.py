"""Files in distributed mode (issue 31): a message's attachments travel through the Redis job
queue to a worker, and the answer's files are posted by the worker's Telegram sender
(sendPhoto/sendDocument through the real `Bot` to the fake Bot API), each part once."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from bots.telegram.sender import TelegramSender
from orchestrator.config import ScaleSettings, TelegramSettings
from orchestrator.messages import Attachment, ChatMessage, OutFile, Reply
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.outbox import RedisOutbox
from orchestrator.queue.producer import RedisJobQueue
from orchestrator.queue.worker import Worker
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import eventually
from tests.servers.file_tools import CSV, tiny_png

SETTINGS = ScaleSettings(mode="distributed", partitions=4, lease_seconds=3, block_ms=100)


async def test_a_document_reaches_the_worker_and_the_answers_files_are_posted_once(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    seen: list[ChatMessage] = []

    async def handle(message: ChatMessage) -> list[Reply]:
        seen.append(message)
        files = (OutFile("chart.png", "image/png", tiny_png()), OutFile("t.csv", "text/csv", CSV))
        return [Reply("here are the files", files=files)]

    doc = Attachment("document", "notes.md", "text/markdown", text="# plan")
    asked = ChatMessage("telegram", "-100", "1", "sum up", message_id="7", attachments=(doc,))
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    await RedisJobQueue(redis_client, keys, 600).enqueue_message(asked)
    async with FakeTelegram() as fake:
        sender = TelegramSender(TelegramSettings(token=fake.token, base_url=fake.base_url))
        await sender.start()
        outbox = RedisOutbox(redis_client, keys, 600)
        worker = Worker(redis_client, keys, SETTINGS, handle, {"telegram": sender}, outbox, "w")
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            assert await eventually(lambda: worker.done == 1, 15)
        finally:
            stop.set()
            await task
            await sender.close()
    assert seen[0].attachments == (doc,)
    assert [p["text"] for p in fake.sent()] == ["here are the files"]
    assert fake.sent("sendPhoto")[0]["photo"]["data"] == tiny_png()
    assert fake.sent("sendDocument")[0]["document"]["data"] == CSV
    assert fake.sent("sendPhoto")[0]["reply_parameters"]["message_id"] == 7
