"""Approval buttons on a Telegram front end (distributed mode), at the wire: a worker posted the
question (the real PTB `Bot` to the fake Bot API), so the front end does not know who asked;
the plan waiting in the shared session store (Redis) does. A stranger's press is queued (the
worker refuses it) and leaves the keyboard; the asker's takes it away (editMessageReplyMarkup)
and is queued once, a redelivered update included."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from bots.telegram.sender import TelegramSender
from orchestrator.app import build_orchestrator
from orchestrator.config import TelegramSettings, parse_config
from orchestrator.messages import ChatMessage, Choice, Reply
from orchestrator.queue.job import Job
from orchestrator.queue.keys import QueueKeys
from orchestrator.sessions.model import PendingConfirmation
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import eventually, running_bot

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
