"""Exactly once through the real python-telegram-bot against the fake Bot API: duplicates are
dropped, one person's messages are answered in order, other people and chats run in parallel,
and a send that timed out after delivery is not posted twice."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import aiohttp
import pytest

from bots.telegram.app import create_application
from bots.telegram.webhook import webhook_server
from orchestrator.app import build_orchestrator
from orchestrator.config import TelegramSettings, WebhookSettings, parse_config
from orchestrator.core import Orchestrator
from orchestrator.delivery.base import InboundRequest
from orchestrator.delivery.redis_store import RedisDeliveryStore
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, text
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import chat_orchestrator, eventually, running_bot
from tests.helpers import clickup_orchestrator as make_clickup_orchestrator

RUN_CREATE = '/run clickup create_task {"list_id": "L1", "name": "Chase INV-7"}'


def clickup_orchestrator(clickup: FakeClickUp, llm_url: str | None = None) -> Orchestrator:
    return make_clickup_orchestrator(clickup.url, clickup.token, llm_url)


def created(clickup: FakeClickUp) -> list[Any]:
    return [r for r in clickup.requests if r[0] == "POST"]


def texts(fake: FakeTelegram, method: str = "sendMessage") -> list[str]:
    return [str(p.get("text", "")) for p in fake.sent(method)]


def last_user_text(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"]).rsplit(": ", 1)[-1]


async def test_an_update_returned_three_times_by_the_poller_is_answered_once() -> None:
    with FakeClickUp() as clickup:
        async with FakeTelegram() as fake, running_bot(fake, clickup_orchestrator(clickup)):
            update_id = fake.message_update(RUN_CREATE, chat_id=5, chat_type="private")
            assert await eventually(
                lambda: any(u["update_id"] == update_id for u in fake.delivered)
            )
            fake.replay(update_id, times=2)
            assert await eventually(lambda: not fake._replays)
            assert await eventually(lambda: any('"id": "t1"' in t for t in texts(fake)))
            fake.message_update("/help", chat_id=5, chat_type="private")  # the bot goes on
            assert await eventually(lambda: any("Commands:" in t for t in texts(fake)))
    assert len(created(clickup)) == 1
    assert len([t for t in texts(fake) if "create_task" in t]) == 1


def webhook_update(fake: FakeTelegram, text_: str, update_id: int, chat_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 17,
            "date": int(time.time()),
            "text": text_,
            "chat": {"id": chat_id, "type": "private"},
            "from": fake.user(chat_id),
            "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
        },
    }


def healthy() -> tuple[bool, dict[str, Any]]:
    return True, {}


async def test_an_update_posted_three_times_to_the_webhook_is_answered_once() -> None:
    """Through the production web process (`webhook_server`, what `orchestrator run telegram`
    serves when a webhook is configured), not python-telegram-bot's own webhook server."""
    with FakeClickUp() as clickup:
        orchestrator = clickup_orchestrator(clickup)
        async with FakeTelegram() as fake:
            hook = WebhookSettings(url="https://bot.example.com/hook", listen="127.0.0.1")
            app = create_application(
                TelegramSettings(token=fake.token, base_url=fake.base_url, webhook=hook),
                orchestrator,
            )
            await orchestrator.start()
            try:
                async with (
                    webhook_server(app, hook, healthy, port=0) as port,
                    aiohttp.ClientSession() as http,
                ):
                    update = webhook_update(fake, RUN_CREATE, 4242, 6)
                    statuses = []
                    for _ in range(3):
                        response = await http.post(
                            f"http://127.0.0.1:{port}/{hook.path}", data=json.dumps(update)
                        )
                        statuses.append(response.status)
                    assert statuses == [200, 200, 200]
                    assert await eventually(lambda: any('"id": "t1"' in t for t in texts(fake)))
                    # A later message of the same person, answered: the copies before it
                    # were handled (one person's messages in order) and dropped.
                    marker = webhook_update(fake, "/help", 4243, 6)
                    marker["message"]["message_id"] = 18
                    marker["message"]["entities"][0]["length"] = 5
                    response = await http.post(
                        f"http://127.0.0.1:{port}/{hook.path}", data=json.dumps(marker)
                    )
                    assert response.status == 200
                    assert await eventually(lambda: any("Commands:" in t for t in texts(fake)))
            finally:
                await orchestrator.stop()
    assert len(created(clickup)) == 1
    assert len([t for t in texts(fake) if "create_task" in t]) == 1


async def test_the_webhook_answers_200_only_after_the_update_is_recorded(
    redis_url: str, key_prefix: str, redis_client: Any
) -> None:
    """The record is held up at the Redis write: Telegram must get no 200 until it is done,
    so an update it was told we have is always in Redis for a restart to resume."""
    orchestrator = build_orchestrator(
        parse_config(
            "orchestrator:\n  name: hookbot\n  memory_system: {type: none}\n"
            "scheduler: {enabled: false}\n"
            f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: '{key_prefix}'}}\n",
            env={},
        )
    )
    store = orchestrator.services.delivery
    assert isinstance(store, RedisDeliveryStore)
    opening, release = asyncio.Event(), asyncio.Event()
    real_open = store.open

    async def held_open(request: InboundRequest, owner: str) -> None:
        opening.set()
        await release.wait()
        await real_open(request, owner)

    store.open = held_open  # type: ignore[method-assign]
    async with FakeTelegram() as fake:
        hook = WebhookSettings(url="https://bot.example.com/hook", listen="127.0.0.1")
        app = create_application(
            TelegramSettings(token=fake.token, base_url=fake.base_url, webhook=hook), orchestrator
        )
        await orchestrator.start()
        try:
            async with (
                webhook_server(app, hook, healthy, port=0) as port,
                aiohttp.ClientSession() as http,
            ):
                post = asyncio.create_task(
                    http.post(
                        f"http://127.0.0.1:{port}/{hook.path}",
                        data=json.dumps(webhook_update(fake, "/help", 5151, 8)),
                    )
                )
                assert await eventually(opening.is_set)
                done, _ = await asyncio.wait({post}, timeout=0.5)
                assert not done  # no answer to Telegram while the record is not written
                key = f"{key_prefix}:hookbot:dlv:req:telegram:update:5151"
                assert not await redis_client.exists(key)
                release.set()
                response = await post
                assert response.status == 200
                assert await redis_client.exists(
                    f"{key_prefix}:hookbot:dlv:claim:telegram:update:5151"
                )
                assert await eventually(lambda: any("Commands:" in t for t in texts(fake)))
        finally:
            await orchestrator.stop()


async def test_twenty_messages_from_one_person_are_answered_in_order() -> None:
    def echo(body: dict[str, Any]) -> dict[str, Any]:
        said = last_user_text(body)
        time.sleep(0.05 if int(said[1:]) % 3 == 0 else 0.0)  # early ones finish late
        return text(f"re {said}")

    with FakeOpenAI(default=echo) as llm:
        async with FakeTelegram() as fake, running_bot(fake, chat_orchestrator(llm.base_url)):
            for i in range(20):
                fake.message_update(f"m{i}", chat_id=11, chat_type="private", user_id=11)
            assert await eventually(
                lambda: len([t for t in texts(fake) if t.startswith("re ")]) == 20, 120
            )
    answers = [t for t in texts(fake) if t.startswith("re ")]
    assert answers == [f"re m{i}" for i in range(20)]


async def test_a_quick_question_is_not_held_behind_a_colleagues_slow_request() -> None:
    release = threading.Event()

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        said = last_user_text(body)
        if said == "slow report":
            release.wait(20)
        return text(f"answer to {said}")

    with FakeOpenAI(default=answer) as llm:
        orchestrator = chat_orchestrator(llm.base_url)
        async with FakeTelegram() as fake, running_bot(fake, orchestrator):
            fake.message_update(f"@{BOT_USERNAME} slow report", user_id=1)
            assert await eventually(lambda: len(llm.requests) == 1)
            fake.message_update(f"@{BOT_USERNAME} quick question", user_id=2)
            quick = await eventually(lambda: "answer to quick question" in texts(fake))
            release.set()
            assert await eventually(lambda: "answer to slow report" in texts(fake))
            session = await orchestrator.services.sessions.load("telegram:-100")
    assert quick
    sent = texts(fake)
    assert sent.index("answer to quick question") < sent.index("answer to slow report")
    turns = [t.text for t in session.turns]
    assert len(turns) == 4
    assert {t.split(": ", 1)[-1] for t in turns} == {
        "quick question",
        "slow report",
        "answer to quick question",
        "answer to slow report",
    }


@pytest.mark.timeout(300)  # the waits below are bounds for a loaded host, not speed claims
async def test_twenty_chats_are_answered_in_parallel() -> None:
    arrived = threading.Semaphore(0)
    together = threading.Barrier(20, timeout=90)

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        arrived.release()
        try:
            together.wait()  # only passes when all 20 requests are being worked on at once
            return text("parallel")
        except threading.BrokenBarrierError:
            return text("serial")

    with FakeOpenAI(default=answer) as llm:
        async with FakeTelegram() as fake, running_bot(fake, chat_orchestrator(llm.base_url)):
            for chat in range(20):
                fake.message_update("hi", chat_id=1000 + chat, chat_type="private", user_id=7)
            assert await eventually(
                # 120 s: an upper bound for a loaded 2-core host, not a speed claim (the
                # barrier, not the clock, shows the parallelism)
                lambda: len([t for t in texts(fake) if t in ("parallel", "serial")]) == 20, 120
            )
    assert sorted({p["chat_id"] for p in fake.sent() if p["text"] == "parallel"}) == [
        1000 + c for c in range(20)
    ]


async def test_a_send_that_timed_out_after_delivery_is_not_posted_again() -> None:
    with FakeOpenAI(default=text("The report is ready.")) as llm:
        async with (
            FakeTelegram() as fake,
            running_bot(fake, chat_orchestrator(llm.base_url), request_timeout_seconds=0.5),
        ):
            fake.stall_next("sendMessage", 2.0, delivered=True)
            fake.message_update("report please", chat_id=12, chat_type="private")
            assert await eventually(lambda: any("Summary" in t for t in texts(fake)))
            fake.message_update("/help", chat_id=12, chat_type="private")
            assert await eventually(lambda: any("Commands:" in t for t in texts(fake)))
    assert texts(fake).count("The report is ready.") == 1
    assert not [t for t in texts(fake) if "went wrong" in t]


async def test_mention_in_any_case_still_runs_the_command_and_commands_failing_is_no_stop() -> None:
    async with FakeTelegram() as fake:
        fake.fail_next("setMyCommands", 400, "Bad Request: command description is too long")
        async with running_bot(fake, chat_orchestrator()):
            fake.message_update("@Team_Ops_Bot /tools")
            assert await eventually(lambda: any("get_current_time" in t for t in texts(fake)))


async def test_help_keeps_its_angle_bracket_placeholders() -> None:
    async with FakeTelegram() as fake, running_bot(fake, chat_orchestrator()):
        fake.message_update("/help", chat_id=13, chat_type="private")
        assert await eventually(lambda: any("Commands:" in t for t in texts(fake)))
    help_text = next(t for t in texts(fake) if "Commands:" in t)
    assert "<server>" in help_text and "<tool>" in help_text
