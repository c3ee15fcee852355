"""Telegram forum topics through the real python-telegram-bot against the fake Bot API: every
send, chat action, confirmation and scheduled post carries the topic's `message_thread_id`, each
topic has its own session (shareable per chat), General and plain groups work as before, a
closed topic loses nothing, and a resumed request keeps its topic."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from orchestrator.delivery.base import InboundRequest
from tests.fakes.openai_server import FakeOpenAI, last_tool_result, text, tool_call
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import chat_orchestrator, eventually, running_bot

FORUM, TOPIC, OTHER = -100, 77, 88
RUN_TIME = '/run time get_current_time {"timezone": "UTC"}'


def forum(fake: FakeTelegram) -> FakeTelegram:
    fake.topics.add(FORUM, TOPIC)
    fake.topics.add(FORUM, OTHER)
    return fake


def answers(fake: FakeTelegram, contains: str = "") -> list[dict[str, Any]]:
    """The messages delivered (sendMessage calls the fake accepted) containing `contains`."""
    return [
        c.params
        for c in fake.calls
        if c.method == "sendMessage"
        and c.result is not None
        and contains in str(c.params.get("text", ""))
    ]


def texts(fake: FakeTelegram) -> list[str]:
    """Everything the bot wrote: messages sent and notices edited into answers."""
    return [str(p.get("text")) for p in fake.sent() + fake.sent("editMessageText")]


def prompt_text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in body["messages"])


async def test_a_mention_and_a_run_in_a_topic_are_answered_in_that_topic() -> None:
    def slow(body: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.8)
        return text("Topic answer")

    with FakeOpenAI([slow]) as llm:
        async with (
            FakeTelegram() as fake,
            running_bot(forum(fake), chat_orchestrator(llm.base_url), working_notice_seconds=0.1),
        ):
            fake.message_update(f"@{BOT_USERNAME} how are we doing?", thread_id=TOPIC)
            fake.message_update(RUN_TIME, thread_id=TOPIC, user_id=2)
            assert await eventually(
                lambda: any("Topic answer" in e["text"] for e in fake.sent("editMessageText"))
            )
            assert await eventually(lambda: any("datetime" in t for t in texts(fake)))
    sends = fake.sent()
    assert answers(fake, "Working on it")  # the slow one's notice, then edited into its answer
    assert len(sends) >= 3
    assert {p.get("message_thread_id") for p in sends} == {TOPIC}
    assert answers(fake, "Working on it")
    actions = fake.sent("sendChatAction")
    assert actions and {a.get("message_thread_id") for a in actions} == {TOPIC}


async def test_each_topic_has_its_own_session_and_general_works_as_before() -> None:
    with FakeOpenAI(default=text("noted")) as llm:
        async with (
            FakeTelegram() as fake,
            running_bot(forum(fake), chat_orchestrator(llm.base_url)),
        ):
            fake.message_update(f"@{BOT_USERNAME} the password is alpha", thread_id=TOPIC)
            assert await eventually(lambda: len(llm.requests) == 1)
            fake.message_update(f"@{BOT_USERNAME} what is the password?", thread_id=OTHER)
            assert await eventually(lambda: len(llm.requests) == 2)
            fake.message_update(f"@{BOT_USERNAME} and here?", thread_id=TOPIC)
            assert await eventually(lambda: len(llm.requests) == 3)
            fake.message_update(f"@{BOT_USERNAME} in General")  # no topic: the chat itself
            assert await eventually(lambda: len(answers(fake, "Summary")) == 4)
    bodies = [r["body"] for r in llm.requests]
    assert "alpha" not in prompt_text(bodies[1])  # another topic: another conversation
    assert "alpha" in prompt_text(bodies[2])  # the same topic remembers
    assert "alpha" not in prompt_text(bodies[3])
    by_thread = [p.get("message_thread_id") for p in answers(fake, "noted")]
    assert by_thread == [TOPIC, OTHER, TOPIC, None]


async def test_a_chat_can_share_one_session_across_its_topics() -> None:
    with FakeOpenAI(default=text("noted")) as llm:
        orchestrator = chat_orchestrator(llm.base_url)
        shared = parse_config(f"chats:\n  'telegram:{FORUM}': {{topics: shared}}\n", env={}).chats
        orchestrator.config.chats.update(shared)
        async with FakeTelegram() as fake, running_bot(forum(fake), orchestrator):
            fake.message_update(f"@{BOT_USERNAME} the password is alpha", thread_id=TOPIC)
            assert await eventually(lambda: len(answers(fake, "Summary")) == 1)
            fake.message_update(f"@{BOT_USERNAME} what is the password?", thread_id=OTHER)
            assert await eventually(lambda: len(answers(fake, "Summary")) == 2)
    assert "alpha" in prompt_text(llm.requests[1]["body"])
    assert [p.get("message_thread_id") for p in answers(fake, "noted")] == [TOPIC, OTHER]


async def test_a_confirmation_in_a_topic_is_asked_and_answered_there() -> None:
    extra = "    write_tools: [get_current_time]\n"
    script = [
        tool_call("time__get_current_time", {"timezone": "UTC"}),
        lambda body: text(last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        async with (
            FakeTelegram() as fake,
            running_bot(forum(fake), chat_orchestrator(llm.base_url, extra)),
        ):
            fake.message_update(f"@{BOT_USERNAME} what time is it", thread_id=TOPIC)
            assert await eventually(lambda: bool(answers(fake, "need your approval")))
            question = answers(fake, "need your approval")[0]
            assert question["message_thread_id"] == TOPIC
            buttons = question["reply_markup"]["inline_keyboard"][0]
            confirm = next(b["callback_data"] for b in buttons if b["text"] == "Run all")
            message_id = fake.message_id_of("need your approval")
            fake.callback_update(confirm, message_id=message_id, thread_id=TOPIC)
            assert await eventually(lambda: bool(answers(fake, '"datetime"')))
    assert {p.get("message_thread_id") for p in fake.sent()} == {TOPIC}


async def test_a_topic_closed_while_the_bot_works_gets_the_answer_in_the_chat() -> None:
    def close_then_answer(body: dict[str, Any]) -> dict[str, Any]:
        fake.topics.close(FORUM, TOPIC)  # closed by an admin while the model thinks
        return text("Answer for a closed topic")

    with FakeOpenAI([close_then_answer]) as llm:
        async with (
            FakeTelegram() as fake,
            running_bot(forum(fake), chat_orchestrator(llm.base_url)),
        ):
            fake.message_update(f"@{BOT_USERNAME} report please", thread_id=TOPIC)
            assert await eventually(lambda: bool(answers(fake, "Summary")))
            fake.message_update("/help", thread_id=OTHER)  # the bot goes on
            assert await eventually(lambda: bool(answers(fake, "Commands:")))
    attempts = [c for c in fake.calls if c.method == "sendMessage"]
    refused = [c for c in attempts if c.params.get("message_thread_id") == TOPIC]
    assert refused and all(c.result is None for c in refused)  # TOPIC_CLOSED
    [note] = answers(fake, "could not post in the topic")
    assert "message_thread_id" not in note
    [answer] = answers(fake, "Answer for a closed topic")
    assert "message_thread_id" not in answer
    assert answers(fake, "Commands:")[0]["message_thread_id"] == OTHER


async def test_a_resumed_request_is_answered_in_its_topic() -> None:
    async with FakeTelegram() as fake:
        forum(fake)
        update_id = 4242
        payload = {
            "update_id": update_id,
            "message": {
                "message_id": 31,
                "date": int(time.time()),
                "text": "/status",
                "chat": {"id": FORUM, "type": "supergroup", "title": "Team", "is_forum": True},
                "from": fake.user(1),
                "message_thread_id": TOPIC,
                "is_topic_message": True,
                "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
            },
        }
        async with running_bot(fake, chat_orchestrator()) as app:
            adapter = app.bot_data["telegram_adapter"]
            await adapter.resume(
                InboundRequest(f"telegram:update:{update_id}", "telegram", payload)
            )
            assert await eventually(lambda: bool(answers(fake, "Servers:")))
    [status] = answers(fake, "Servers:")
    assert status["message_thread_id"] == TOPIC


def scheduling_orchestrator(path: Path) -> Orchestrator:
    yaml = (
        "orchestrator:\n  memory_system: {type: none}\n"
        f"scheduler: {{enabled: true, tick_seconds: 3600, path: '{path}'}}\n"
    )
    return build_orchestrator(parse_config(yaml, env={}))


async def test_a_schedule_made_in_a_topic_posts_there(tmp_path: Path) -> None:
    orchestrator = scheduling_orchestrator(tmp_path / "schedules.json")
    async with FakeTelegram() as fake, running_bot(forum(fake), orchestrator):
        # A command (no model is configured here, so free text would be refused at creation).
        fake.message_update("/schedule every day at 9 /tools", thread_id=TOPIC)
        assert await eventually(lambda: bool(answers(fake, "Scheduled")))
        assert answers(fake, "Scheduled")[0]["message_thread_id"] == TOPIC
        scheduler = orchestrator.scheduler
        assert scheduler is not None
        [schedule] = await scheduler.store.list_chat(f"telegram:{FORUM}")  # type: ignore[attr-defined]
        assert schedule.thread_id == str(TOPIC)
        due = replace(schedule, last_run_at=datetime.now(UTC))  # its slot came
        await scheduler.runner(due)  # type: ignore[attr-defined]
        assert await eventually(lambda: bool(answers(fake, f"Scheduled {schedule.id}:")))
    *_created, post = answers(fake, f"Scheduled {schedule.id}: /tools")
    assert post["message_thread_id"] == TOPIC


async def test_chatter_in_a_topic_the_bot_created_is_not_taken_as_a_reply_to_it() -> None:
    with FakeOpenAI(default=text("here")) as llm:
        async with (
            FakeTelegram() as fake,
            running_bot(forum(fake), chat_orchestrator(llm.base_url)),
        ):
            fake.message_update("lunch anyone?", thread_id=TOPIC)
            # In a topic every message replies to the topic's first (service) message; here
            # the bot created the topic, so that message is the bot's.
            fake.updates[-1]["message"]["reply_to_message"] = {
                "message_id": TOPIC,
                "date": int(time.time()),
                "chat": fake.updates[-1]["message"]["chat"],
                "from": fake.bot_user(),
                "forum_topic_created": {"name": "Reports", "icon_color": 7322096},
                "message_thread_id": TOPIC,
                "is_topic_message": True,
            }
            fake.message_update(f"@{BOT_USERNAME} are you there?", thread_id=TOPIC)
            assert await eventually(lambda: bool(answers(fake, "Summary")))
    assert len(llm.requests) == 1  # the chatter never reached the model
    assert "are you there?" in prompt_text(llm.requests[0]["body"])
