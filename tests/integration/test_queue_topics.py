"""Distributed mode keeps the topic or thread: a message from a Telegram forum topic, queued by a
front end and answered by a worker through the real `Bot`, lands in that topic; a worker's
Discord sender posts into the thread. A tool's files and the typing shown while a worker runs
the job go there too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
import redis.asyncio as aioredis

from bots.discord.sender import DiscordSender
from bots.telegram.sender import TelegramSender
from orchestrator.config import DiscordSettings
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage, OutFile, Reply
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.outbox import RedisOutbox
from orchestrator.queue.producer import RedisJobQueue
from orchestrator.queue.worker import Worker
from tests.discord_wire import ANN, REPORTS
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import eventually
from tests.integration.test_queue_worker import (
    ANSWER,
    SETTINGS,
    core,
    fake,
    llm,
    run_worker,
    sender,
)

# The queue worker test's fixtures: the real core, its fake model, the fake Bot API, its sender.
__all__ = ["core", "fake", "llm", "sender"]


async def test_a_queued_message_from_a_topic_is_answered_in_it(
    fake: FakeTelegram,
    sender: TelegramSender,
    redis_client: aioredis.Redis,
    key_prefix: str,
    core: Orchestrator,
) -> None:
    fake.topics.add(-100, 77)
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    asked = ChatMessage("telegram", "-100", "1", "weekly report", message_id="7", thread_id="77")
    await RedisJobQueue(redis_client, keys, 600).enqueue_message(asked)
    worker, stop, task = await run_worker(redis_client, keys, core, sender)
    try:
        assert await eventually(lambda: worker.done == 1, 15)
    finally:
        stop.set()
        await task
    [answer] = [p for p in fake.sent() if ANSWER in p["text"]]
    assert answer["message_thread_id"] == 77


@pytest.fixture
async def discord_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.base_url)
        yield fake


async def test_a_worker_answers_a_discord_thread_in_the_thread(discord_api: FakeDiscord) -> None:
    thread = discord_api.add_thread(REPORTS, "weekly")
    asked = discord_api.user_message(thread, ANN, "weekly report?")
    sender = DiscordSender(DiscordSettings(token=discord_api.token))
    await sender.start()
    try:
        (part,) = sender.render([Reply("the report")])
        await sender.send(REPORTS, part, asked["id"], "job:0", thread_id=thread)
    finally:
        await sender.close()
    [answer] = [m for m in discord_api.messages if not m.get("_user")]
    assert answer["channel_id"] == thread and answer["content"] == "the report"
    assert answer["message_reference"]["message_id"] == asked["id"]


CHART = OutFile("chart.png", "image/png", b"\x89PNG-chart")
REPORT = OutFile("report.csv", "text/csv", b"a,b\n1,2\n")


async def test_a_workers_photo_and_document_for_a_topic_carry_its_thread_id(
    fake: FakeTelegram, sender: TelegramSender
) -> None:
    fake.topics.add(-100, 77)
    photo, document = sender.render([Reply("files", files=(CHART, REPORT))])[1:]
    await sender.send("-100", photo, "7", "job:1", thread_id="77")
    await sender.send("-100", document, "7", "job:2", thread_id="77")
    [sent_photo], [sent_document] = fake.sent("sendPhoto"), fake.sent("sendDocument")
    assert sent_photo["message_thread_id"] == 77 and sent_photo["photo"]["data"] == CHART.data
    assert sent_document["message_thread_id"] == 77
    assert sent_document["document"]["filename"] == "report.csv"


async def test_a_workers_file_for_a_discord_thread_is_attached_in_the_thread(
    discord_api: FakeDiscord,
) -> None:
    thread = discord_api.add_thread(REPORTS, "weekly")
    asked = discord_api.user_message(thread, ANN, "chart please")
    sender = DiscordSender(DiscordSettings(token=discord_api.token))
    await sender.start()
    try:
        file_part = sender.render([Reply("the chart", files=(CHART,))])[1]
        await sender.send(REPORTS, file_part, asked["id"], "job:1", thread_id=thread)
    finally:
        await sender.close()
    [posted] = [m for m in discord_api.messages if not m.get("_user")]
    assert posted["channel_id"] == thread
    assert [a["filename"] for a in posted["attachments"]] == ["chart.png"]
    assert discord_api.files[posted["attachments"][0]["id"]] == CHART.data


async def test_a_worker_shows_typing_in_the_topic_while_it_answers(
    fake: FakeTelegram, sender: TelegramSender, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    fake.topics.add(-100, 77)

    async def slow_core(message: ChatMessage) -> list[Reply]:  # answers once typing is shown
        assert await eventually(lambda: bool(fake.sent("sendChatAction")), 10)
        return [Reply("typed, then answered")]

    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    asked = ChatMessage("telegram", "-100", "1", "weekly report", message_id="7", thread_id="77")
    await RedisJobQueue(redis_client, keys, 600).enqueue_message(asked)
    outbox = RedisOutbox(redis_client, keys, 600)
    worker = Worker(redis_client, keys, SETTINGS, slow_core, {"telegram": sender}, outbox, "w")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        assert await eventually(lambda: worker.done == 1, 15)
    finally:
        stop.set()
        await task
    actions = fake.sent("sendChatAction")
    assert {(a["action"], a["message_thread_id"]) for a in actions} == {("typing", 77)}
    [answer] = [p for p in fake.sent() if "typed, then answered" in p["text"]]
    assert answer["message_thread_id"] == 77


async def test_a_discord_worker_shows_typing_in_the_thread(discord_api: FakeDiscord) -> None:
    thread = discord_api.add_thread(REPORTS, "weekly")
    sender = DiscordSender(DiscordSettings(token=discord_api.token))
    await sender.start()
    try:
        await sender.show_typing(REPORTS, thread)
    finally:
        await sender.close()
    typing = [c for c in discord_api.calls if c.path.endswith("/typing")]
    assert [c.path.rsplit("/", 2)[-2] for c in typing] == [thread]
