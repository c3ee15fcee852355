"""Discord approval and question buttons in distributed mode, at the wire: a worker posts them
through discord.py's REST client; a front end (the real bot, discord.py's own gateway parsing)
receives the click, checks the presser, acknowledges it within Discord's deadline and relays
the command into the Redis queue once; a worker answers it in the channel, replying to the
question."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator

import discord
import pytest
import redis.asyncio as aioredis

from bots.discord.sender import DiscordSender
from orchestrator.app import build_orchestrator
from orchestrator.config import DiscordSettings, ScaleSettings, parse_config
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage, Choice, Reply
from orchestrator.queue.job import Job
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.outbox import RedisOutbox
from orchestrator.queue.worker import Worker
from tests.discord_wire import ADA, ANN, BOB, REPORTS, discord_wire
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_checks import EPHEMERAL
from tests.fakes.discord_interactions import DEFERRED_UPDATE, UPDATE
from tests.helpers import chat_orchestrator, eventually

SETTINGS = ScaleSettings(mode="distributed", partitions=4, lease_seconds=3, block_ms=100)
PLAN = "1a2b3c4d"


@pytest.fixture
async def api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.base_url)
        yield fake


@pytest.fixture
async def sender(api: FakeDiscord) -> AsyncIterator[DiscordSender]:
    worker = DiscordSender(DiscordSettings(token=api.token))
    await worker.start()
    yield worker
    await worker.close()


@pytest.fixture
async def front(redis_url: str, key_prefix: str) -> AsyncIterator[Orchestrator]:
    orchestrator = build_orchestrator(
        parse_config(
            "orchestrator:\n  memory_system: {type: none}\n"
            "scheduler: {enabled: false}\n"
            f"scale: {{mode: distributed, role: frontend, partitions: {SETTINGS.partitions}}}\n"
            f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: {key_prefix}}}\n",
            env={},
        )
    )
    await orchestrator.start()
    yield orchestrator
    await orchestrator.stop()


async def queued(client: aioredis.Redis, keys: QueueKeys, *, answers: bool = False) -> list[Job]:
    """The jobs queued for the channel: on its partition's main lane, or its answers lane."""
    partition = keys.partition_of(f"discord:{REPORTS}")
    stream = keys.answers(partition) if answers else keys.stream(partition)
    return [Job.from_json(fields[b"job"]) for _, fields in await client.xrange(stream)]


async def test_a_click_on_a_workers_button_is_relayed_into_the_queue_once(
    api: FakeDiscord,
    sender: DiscordSender,
    front: Orchestrator,
    redis_client: aioredis.Redis,
    key_prefix: str,
) -> None:
    asked = api.user_message(REPORTS, ANN, "create the follow-up task")
    choices = (Choice("Run all", f"/confirm {PLAN}"), Choice("Cancel", f"/cancel {PLAN}"))
    question_reply = Reply("I need your approval.", choices=choices, for_user_id=ANN["id"])
    (part,) = sender.render([question_reply])
    await sender.send(REPORTS, part, asked["id"], "job1:0")  # the worker asks
    question = next(m for m in api.messages if not m.get("_user"))
    shown = copy.deepcopy(question)  # what a client that has not refreshed still shows
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    async with discord_wire(front, api=api) as wire:
        stranger = wire.press(question, "Run all", user=BOB)
        (refusal,) = await wire.answered(stranger)
        assert "Only the person who asked" in refusal["content"]
        assert refusal["flags"] & EPHEMERAL
        assert question["components"] == shown["components"]  # a refused click: they stay

        pressed = wire.press(question, "Run all", user=ANN)
        await wire.until(lambda: pressed.responses == [UPDATE])  # acknowledged, buttons gone
        assert question["components"] == [] and question["content"] == shown["content"]
        await wire.until(lambda: not wire.bot.inflight._held)
        wire.replay(pressed)  # the gateway delivers the same click again
        admin = wire.press(shown, "Cancel", user=ADA)  # an admin may answer for the asker
        await wire.until(lambda: admin.responses == [UPDATE])
        assert await eventually(lambda: not wire.bot.inflight._held)
    jobs = await queued(redis_client, keys)
    assert [(j.message.text, j.message.user_id) for j in jobs] == [
        (f"/confirm {PLAN}", ANN["id"]),
        (f"/cancel {PLAN}", ADA["id"]),
    ]
    assert {(j.message.chat_id, j.message.message_id) for j in jobs} == {(REPORTS, question["id"])}
    public = [m["id"] for m in wire.sent(REPORTS) if not (m.get("flags") or 0) & EPHEMERAL]
    assert pressed.answers() == [] and public == [question["id"]]  # a worker answers
    assert wire.refusals() == []


async def test_an_admins_click_on_a_servers_question_keeps_the_buttons_for_the_asker(
    api: FakeDiscord,
    sender: DiscordSender,
    front: Orchestrator,
    redis_client: aioredis.Redis,
    key_prefix: str,
) -> None:
    """An admin may approve a plan for someone, not answer a tool server's question for them:
    the question waits in a worker, whose record of the asker (the shared session store) tells
    the front end to keep the buttons. Both clicks go on the answers lane, the worker decides."""
    qid = "0a1b2c3d"
    choices = (Choice("Yes", f"/answer {qid} yes"), Choice("Decline", f"/answer {qid} --decline"))
    (part,) = sender.render([Reply("rooms asks: Book?", choices=choices, for_user_id=ANN["id"])])
    await sender.send(REPORTS, part, None, "job1:0")  # the worker asks
    await front.services.sessions.record_question(f"discord:{REPORTS}", qid, ANN["id"], 60)
    question = next(m for m in api.messages if not m.get("_user"))
    shown = copy.deepcopy(question)
    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    async with discord_wire(front, api=api) as wire:
        admin = wire.press(question, "Yes", user=ADA)
        await wire.until(lambda: admin.responses == [DEFERRED_UPDATE])  # acknowledged only
        assert await eventually(lambda: not wire.bot.inflight._held)
        assert question["components"] == shown["components"]
        pressed = wire.press(question, "Yes", user=ANN)
        await wire.until(lambda: pressed.responses == [UPDATE])  # the asker's: buttons gone
        assert question["components"] == []
    jobs = await queued(redis_client, keys, answers=True)
    assert [(j.message.text, j.message.user_id) for j in jobs] == [
        (f"/answer {qid} yes", ADA["id"]),
        (f"/answer {qid} yes", ANN["id"]),
    ]
    assert await queued(redis_client, keys) == []  # not behind the asking job


async def test_a_worker_answers_the_relayed_click_in_the_channel(
    api: FakeDiscord,
    sender: DiscordSender,
    front: Orchestrator,
    redis_client: aioredis.Redis,
    key_prefix: str,
) -> None:
    (part,) = sender.render(
        [Reply("Approve?", choices=(Choice("Run all", f"/confirm {PLAN}"),), for_user_id=ANN["id"])]
    )
    await sender.send(REPORTS, part, None, "job1:0")
    question = next(m for m in api.messages if not m.get("_user"))
    async with discord_wire(front, api=api) as wire:
        pressed = wire.press(question, "Run all", user=ANN)
        await wire.until(lambda: pressed.responses == [UPDATE])

    async def handle(message: ChatMessage) -> list[Reply]:  # the worker's core, as it is called
        return [Reply(f"ran {message.text} for {message.user_id}")]

    keys = QueueKeys(key_prefix, SETTINGS.partitions)
    outbox = RedisOutbox(redis_client, keys, 600)
    worker = Worker(redis_client, keys, SETTINGS, handle, {"discord": sender}, outbox, "w1")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        assert await eventually(lambda: worker.done == 1, 15)
    finally:
        stop.set()
        await task
    answer = [m for m in api.messages if not m.get("_user")][-1]
    assert answer["content"] == f"ran /confirm {PLAN} for {ANN['id']}"
    assert answer["channel_id"] == REPORTS
    assert answer["message_reference"]["message_id"] == question["id"]


async def test_without_a_queue_the_front_end_answers_the_click_itself(
    api: FakeDiscord, sender: DiscordSender
) -> None:
    """A button a worker posted, clicked after the deployment went back to one process."""
    (part,) = sender.render(
        [Reply("Help?", choices=(Choice("Show", "/help"),), for_user_id=ANN["id"])]
    )
    await sender.send(REPORTS, part, None, "job1:0")
    question = next(m for m in api.messages if not m.get("_user"))
    single = chat_orchestrator(with_time_server=False)
    await single.start()
    try:
        async with discord_wire(single, api=api) as wire:
            pressed = wire.press(question, "Show", user=ANN)
            (answer,) = await wire.answered(pressed)
    finally:
        await single.stop()
    assert pressed.responses == [UPDATE] and "/help" in answer["content"]
    assert question["components"] == []  # the answer is a follow-up, the buttons are gone
    assert wire.refusals() == []
