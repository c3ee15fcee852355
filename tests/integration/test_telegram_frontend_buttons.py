"""Buttons on a Telegram front end (distributed mode), at the wire: a worker posted the question
(the real PTB `Bot` to the fake Bot API), so the front end does not know who asked; the shared
session store (Redis) does: the plan waiting there, or the record of a tool server's question
that the worker's tool call waits on. A stranger's press is queued (the worker refuses it) and
leaves the keyboard; the asker's takes it away (editMessageReplyMarkup) and is queued once, a
redelivered update included."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as aioredis

from bots.telegram.sender import TelegramSender
from orchestrator.app import build_orchestrator, build_worker
from orchestrator.config import TelegramSettings, parse_config
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage, Choice, Reply
from orchestrator.queue.job import Job
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.senders import SenderAdapter
from orchestrator.queue.worker import Worker
from orchestrator.sessions.model import PendingConfirmation
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import eventually, features_server_yaml, running_bot

PLAN = "1a2b3c4d"


async def test_a_front_end_takes_the_keyboard_away_for_the_askers_press_only(
    redis_url: str, key_prefix: str, redis_client: aioredis.Redis
) -> None:
    front = build_orchestrator(
        parse_config(
            "orchestrator:\n  memory_system: {type: none}\n"
            "scheduler: {enabled: false}\nscale: {mode: distributed, role: frontend}\n"
            f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: {key_prefix}}}\n",
            env={},
        )
    )
    keys = QueueKeys(key_prefix, front.config.scale.partitions)
    stream = keys.stream(keys.partition_of("telegram:-100"))

    async def queued() -> list[Job]:
        return [Job.from_json(f[b"job"]) for _, f in await redis_client.xrange(stream)]

    async with FakeTelegram() as fake:
        worker = TelegramSender(TelegramSettings(token=fake.token, base_url=fake.base_url))
        await worker.start()
        choices = (Choice("Run all", f"/confirm {PLAN}"), Choice("Cancel", f"/cancel {PLAN}"))
        reply = Reply("I need your approval.", choices=choices, for_user_id="1")
        (part,) = worker.render([reply])
        question = int(await worker.send("-100", part, None))  # the worker asks
        await worker.close()
        async with running_bot(fake, front):
            asker = front.in_conversation(ChatMessage("telegram", "-100", "1", ""))
            session = await front.services.sessions.load(asker.conversation_key)
            session.pending[PLAN] = PendingConfirmation(PLAN, "1", time.time() + 600)
            await front.services.sessions.save(asker.conversation_key, session)

            fake.callback_update(f"/confirm {PLAN}", message_id=question, user_id=2)
            assert await eventually(lambda: len(fake.sent("answerCallbackQuery")) == 1)
            assert fake.keyboard_of(-100, question) is not None  # the worker refuses a stranger
            assert not fake.sent("editMessageReplyMarkup")

            pressed = fake.callback_update(f"/confirm {PLAN}", message_id=question, user_id=1)
            assert await eventually(lambda: fake.keyboard_of(-100, question) is None)
            fake.replay(pressed)  # Telegram hands the same update out again
            assert await eventually(lambda: not fake._replays)
            await asyncio.sleep(0.3)  # time to handle it, were it not dropped
            assert len(fake.sent("answerCallbackQuery")) == 2
    jobs = await queued()
    assert [(j.message.text, j.message.user_id) for j in jobs] == [
        (f"/confirm {PLAN}", "2"),
        (f"/confirm {PLAN}", "1"),
    ]
    assert fake.sent("editMessageReplyMarkup") == [{"chat_id": -100, "message_id": question}]
    assert fake.sent() == [fake.sent()[0]]  # the worker's question only: workers answer


def distributed(redis_url: str, key_prefix: str, role: str, servers: str = "") -> str:
    """One job at a time: the answers must get through while the asking job holds the slot."""
    return (
        "orchestrator:\n  memory_system: {type: none}\n"
        f"scheduler: {{enabled: false}}\n{servers}"
        "scale: {mode: distributed, worker_concurrency: 1, "
        f"role: {role}, partitions: 4, lease_seconds: 3, block_ms: 100}}\n"
        f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: {key_prefix}}}\n"
    )


@asynccontextmanager
async def running_worker(
    fake: FakeTelegram, redis_url: str, key_prefix: str
) -> AsyncIterator[tuple[Orchestrator, Worker]]:
    """A worker as `orchestrator worker` runs one: the core with the features server (its
    book_room asks the person), posting through the Bot API sender, reading the queue."""
    config = parse_config(
        distributed(redis_url, key_prefix, "worker", f"mcp_servers:\n{features_server_yaml()}"),
        env={},
    )
    core = build_orchestrator(config)
    sender = TelegramSender(TelegramSettings(token=fake.token, base_url=fake.base_url))
    client = aioredis.Redis.from_url(redis_url)
    await core.start()
    await sender.start()
    core.attach(SenderAdapter(sender))
    worker = build_worker(config, core, {"telegram": sender}, client, "w1")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield core, worker
    finally:
        stop.set()
        await task
        await sender.close()
        await core.stop()
        await client.aclose()


def button(fake: FakeTelegram, text_part: str, label: str) -> tuple[int, str]:
    """The message showing `text_part` and the callback data of its button `label`."""
    message_id = fake.message_id_of(text_part)
    rows = fake.keyboard_of(-100, message_id)["inline_keyboard"]
    return message_id, next(b["callback_data"] for row in rows for b in row if b["text"] == label)


def posted(fake: FakeTelegram, text_part: str) -> list[dict[str, Any]]:
    return [p for p in fake.sent() if text_part in str(p.get("text", ""))]


async def test_a_front_end_keeps_a_servers_question_for_its_asker_whose_answer_runs_once(
    redis_url: str, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The question waits in the worker's tool call (its job holds the chat's main lane); the
    front end only has the record of it, and queues the presses on the answers lane."""
    caplog.set_level(logging.INFO, logger="orchestrator.delivery.inflight")
    front = build_orchestrator(parse_config(distributed(redis_url, key_prefix, "frontend"), env={}))
    async with (
        FakeTelegram() as fake,
        running_worker(fake, redis_url, key_prefix) as (_, worker),
        running_bot(fake, front),
    ):
        fake.message_update("/run features book_room " + json.dumps({"room": "A"}), user_id=1)
        assert await eventually(lambda: bool(posted(fake, "Book room A?")), 30)
        question, yes = button(fake, "Book room A?", "Yes")
        qid = yes.split()[1]
        assert await front.services.sessions.question_asker("telegram:-100", qid) == "1"

        fake.callback_update(yes, message_id=question, user_id=2)  # a stranger
        assert await eventually(lambda: bool(posted(fake, "Only the person who was asked")), 30)
        assert fake.keyboard_of(-100, question) is not None
        assert not fake.sent("editMessageReplyMarkup")

        pressed = fake.callback_update(yes, message_id=question, user_id=1)  # the asker
        assert await eventually(lambda: fake.keyboard_of(-100, question) is None)
        fake.replay(pressed)  # Telegram hands the same update out again
        assert await eventually(lambda: "duplicate_dropped platform=telegram" in caplog.text)
        assert await eventually(lambda: bool(posted(fake, "Room size")), 30)
        size, large = button(fake, "Room size", "large")
        fake.callback_update(large, message_id=size, user_id=1)
        assert await eventually(lambda: bool(posted(fake, "booked A (large)")), 30)
        assert await eventually(lambda: worker.done == 4, 30)  # request, stranger, Yes, large
        assert await front.services.sessions.question_asker("telegram:-100", qid) is None
    assert len(posted(fake, "booked A (large)")) == 1  # the tool had the answers, once
    assert len(posted(fake, "Room size")) == 1 and len(posted(fake, "Thanks, sent.")) == 1
    assert fake.sent("editMessageReplyMarkup") == [
        {"chat_id": -100, "message_id": question},
        {"chat_id": -100, "message_id": size},
    ]
