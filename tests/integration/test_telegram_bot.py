"""The real python-telegram-bot Application against a fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from typing import Any

import aiohttp
import pytest

from bots.telegram import working as telegram_working
from bots.telegram.app import create_application
from bots.telegram.webhook import webhook_server
from orchestrator.app import build_orchestrator
from orchestrator.config import TelegramSettings, WebhookSettings, parse_config
from orchestrator.core import Orchestrator
from scripts.with_redis import free_port
from tests.fakes.openai_server import FakeOpenAI, last_tool_result, text, tool_call
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import chat_orchestrator, eventually, running_bot
from tests.hubkit import SERVERS


def orchestrator_for(llm_url: str | None = None, extra: str = "") -> Orchestrator:
    return chat_orchestrator(llm_url, extra)


def answers(fake: FakeTelegram, contains: str = "") -> list[dict[str, Any]]:
    return [p for p in fake.sent() if contains in str(p.get("text", ""))]


async def test_mention_in_group_gets_a_threaded_reply_and_commands_are_published() -> None:
    with FakeOpenAI(default=text("Hello team, **all good**.")) as llm:
        async with FakeTelegram() as fake, running_bot(fake, orchestrator_for(llm.base_url)):
            fake.message_update(f"@{BOT_USERNAME} how are we doing?")
            asking_id = fake.updates[-1]["message"]["message_id"]
            assert await eventually(lambda: bool(answers(fake, "Hello team")))
            reply = answers(fake, "Hello team")[0]
            assert reply["reply_parameters"]["message_id"] == asking_id
            assert reply["text"].startswith("Hello team, all good.")
            assert any(e["type"] == "bold" for e in reply["entities"])
            assert "how are we doing?" in llm.requests[0]["body"]["messages"][-1]["content"]
            assert "@" not in llm.requests[0]["body"]["messages"][-1]["content"]
            names = {c["command"] for c in fake.sent("setMyCommands")[0]["commands"]}
            assert {"help", "tools", "run", "status"} <= names
            assert fake.sent("sendChatAction")


async def test_plain_group_chatter_gets_no_reply_but_private_chat_does() -> None:
    with FakeOpenAI(default=text("private answer")) as llm:
        async with FakeTelegram() as fake, running_bot(fake, orchestrator_for(llm.base_url)):
            fake.message_update("lunch anyone?")
            fake.message_update("@someone_else look at this")
            fake.message_update("/help@another_bot")
            fake.message_update("just me here", chat_id=42, chat_type="private")
            assert await eventually(lambda: bool(answers(fake, "private answer")))
            # A later command of the same person in the group, answered: the chatter before it
            # was handled (one person's messages in order) and got nothing.
            fake.message_update(f"/help@{BOT_USERNAME}")
            assert await eventually(lambda: bool(answers(fake, "Commands:")))
            group = [p for p in fake.sent() if p["chat_id"] == -100]
            assert len(group) == 1 and "Commands:" in group[0]["text"]
            assert {p["chat_id"] for p in fake.sent()} == {42, -100}
            assert len(llm.requests) == 1


async def test_reply_to_the_bot_counts_as_addressing_it() -> None:
    with FakeOpenAI(default=text("sure")) as llm:
        async with FakeTelegram() as fake, running_bot(fake, orchestrator_for(llm.base_url)):
            fake.message_update("and for Globex?", reply_to_bot=True)
            assert await eventually(lambda: bool(answers(fake, "sure")))


async def test_a_command_in_a_group_is_answered() -> None:
    async with FakeTelegram() as fake, running_bot(fake, orchestrator_for()):
        fake.message_update(f"/tools@{BOT_USERNAME}")
        assert await eventually(lambda: bool(answers(fake, "get_current_time")))


async def test_long_markdown_answer_is_split_in_order_with_code_blocks_closed() -> None:
    sections = []
    for i in range(12):
        code = "\n".join(f"    value_{i}_{j} = compute({j})" for j in range(16))
        sections.append(
            f"## Part {i}\n\nParagraph {i} " + "words " * 80 + f"\n\n```python\n{code}\n```"
        )
    answer = "\n\n".join(sections)
    assert len(answer) > 10_000
    with FakeOpenAI(default=text(answer)) as llm:
        async with FakeTelegram() as fake, running_bot(fake, orchestrator_for(llm.base_url)):
            fake.message_update(f"@{BOT_USERNAME} write the report", chat_id=7, chat_type="private")
            assert await eventually(lambda: any("Summary" in p["text"] for p in fake.sent()))
    parts = [p for p in fake.sent() if "Summary" not in p["text"]]
    assert len(parts) >= 3
    assert all(len(p["text"].encode("utf-16-le")) // 2 <= 4096 for p in parts)
    joined = "\n".join(p["text"] for p in parts)
    positions = [joined.index(f"value_{i}_15 = compute(15)") for i in range(12)]
    assert positions == sorted(positions)
    for part in parts:
        for entity in part.get("entities", []):
            assert entity["offset"] + entity["length"] <= len(part["text"].encode("utf-16-le")) // 2
        pre = [e for e in part.get("entities", []) if e["type"] == "pre"]
        assert all(e.get("language") == "python" for e in pre)
    assert "```" not in joined  # fences became entities, never stray markup


async def test_429_is_waited_out_and_the_message_is_delivered_once() -> None:
    async with FakeTelegram() as fake, running_bot(fake, orchestrator_for()):
        fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        fake.message_update("/status", chat_id=9, chat_type="private")
        assert await eventually(
            lambda: len([c for c in fake.calls if c.method == "sendMessage"]) >= 2
        )
        fake.message_update("/help", chat_id=9, chat_type="private")  # a later marker, answered
        assert await eventually(lambda: bool(answers(fake, "Commands:")))
    attempts = [
        c
        for c in fake.calls
        if c.method == "sendMessage" and "Commands:" not in str(c.params.get("text"))
    ]
    assert len(attempts) == 2 and attempts[0].params["text"] == attempts[1].params["text"]
    assert "Servers:" in attempts[1].params["text"]


async def test_rejected_markup_is_resent_as_plain_text() -> None:
    with FakeOpenAI(default=text("**bold** answer")) as llm:
        async with FakeTelegram() as fake, running_bot(fake, orchestrator_for(llm.base_url)):
            fake.fail_next(
                "sendMessage",
                400,
                "Bad Request: can't parse entities: Can't find end of the entity",
            )
            fake.message_update("hi", chat_id=9, chat_type="private")
            assert await eventually(lambda: len(answers(fake, "bold answer")) >= 2)
    first, second = answers(fake, "bold answer")[:2]
    assert first.get("entities") and not second.get("entities")
    assert second["text"] == first["text"]


WRITE_TIME = "    write_tools: [get_current_time]\n"  # the time tool needs an approval


def time_script() -> list[Any]:
    """The model asks for the (approval-gated) time tool, then answers with its result."""
    return [
        tool_call("time__get_current_time", {"timezone": "UTC"}),
        lambda body: text(last_tool_result(body)),
    ]


async def asked_for_approval(fake: FakeTelegram) -> tuple[str, int]:
    """Person 1 asks the time; (the "Run all" button's callback data, the question's id)."""
    fake.message_update(f"@{BOT_USERNAME} what time is it", user_id=1)
    assert await eventually(lambda: bool(answers(fake, "need your approval")))
    buttons = answers(fake, "need your approval")[0]["reply_markup"]["inline_keyboard"][0]
    confirm = next(b["callback_data"] for b in buttons if b["text"] == "Run all")
    return confirm, fake.message_id_of("need your approval")


async def test_confirmation_pressed_by_another_user_is_refused() -> None:
    with FakeOpenAI(time_script()) as llm:
        orchestrator = orchestrator_for(llm.base_url, WRITE_TIME)
        async with FakeTelegram() as fake, running_bot(fake, orchestrator):
            confirm, message_id = await asked_for_approval(fake)
            fake.callback_update(confirm, message_id=message_id, user_id=2)
            assert await eventually(lambda: bool(fake.sent("answerCallbackQuery")))
            refusal = fake.sent("answerCallbackQuery")[0]
            assert refusal["show_alert"] is True and "Only the person" in refusal["text"]
            assert not answers(fake, '"datetime"')
            assert fake.keyboard_of(-100, message_id) is not None  # a refused press: they stay
            assert not fake.sent("editMessageReplyMarkup")
            fake.callback_update(confirm, message_id=message_id, user_id=1)
            assert await eventually(lambda: bool(answers(fake, '"datetime"')))
    assert fake.keyboard_of(-100, message_id) is None  # the asker's press took them away
    assert fake.sent("editMessageReplyMarkup") == [{"chat_id": -100, "message_id": message_id}]


async def test_a_replayed_or_repeated_press_runs_the_command_once() -> None:
    """The same update again (a redelivery) is dropped; a second press (a client still showing
    the buttons) is told the plan already ran, its edit of the gone keyboard refused and logged."""
    with FakeOpenAI(time_script()) as llm:
        orchestrator = orchestrator_for(llm.base_url, WRITE_TIME)
        async with FakeTelegram() as fake, running_bot(fake, orchestrator):
            confirm, message_id = await asked_for_approval(fake)
            pressed = fake.callback_update(confirm, message_id=message_id, user_id=1)
            assert await eventually(lambda: bool(answers(fake, '"datetime"')))
            fake.replay(pressed, times=2)
            assert await eventually(lambda: not fake._replays)
            fake.callback_update(confirm, message_id=message_id, user_id=1)
            assert await eventually(lambda: bool(answers(fake, "already answered: Run all")))
            assert await eventually(lambda: len(fake.sent("editMessageReplyMarkup")) == 2)
    assert len(answers(fake, '"datetime"')) == 1
    assert len(fake.sent("answerCallbackQuery")) == 2  # the replays were not handled
    assert fake.keyboard_of(-100, message_id) is None
    edits = [c for c in fake.calls if c.method == "editMessageReplyMarkup"]
    assert edits[0].result["message_id"] == message_id and edits[1].result is None  # refused


async def test_webhook_with_a_wrong_secret_is_not_processed() -> None:
    """Through `webhook_server` on the webhook's own configured port (no `http:` section)."""
    port = free_port()
    orchestrator = orchestrator_for()
    async with FakeTelegram() as fake:
        hook = WebhookSettings(
            url=f"http://127.0.0.1:{port}/hook",
            listen="127.0.0.1",
            port=port,
            secret_token="s3cret-token",
            path="hook",
        )
        settings = TelegramSettings(token=fake.token, base_url=fake.base_url, webhook=hook)
        app = create_application(settings, orchestrator)
        await orchestrator.start()
        try:
            async with webhook_server(app, hook, lambda: (True, {})) as bound:
                assert bound == port
                update = {
                    "update_id": 900,
                    "message": {
                        "message_id": 1,
                        "date": int(time.time()),
                        "text": "/status",
                        "chat": {"id": 5, "type": "private"},
                        "from": fake.user(5),
                        "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
                    },
                }
                async with aiohttp.ClientSession() as http:
                    bad = await http.post(
                        f"http://127.0.0.1:{port}/hook",
                        data=json.dumps(update),
                        headers={
                            "Content-Type": "application/json",
                            "X-Telegram-Bot-Api-Secret-Token": "wrong",
                        },
                    )
                    assert bad.status == 403
                    good = await http.post(
                        f"http://127.0.0.1:{port}/hook",
                        data=json.dumps({**update, "update_id": 901}),
                        headers={
                            "Content-Type": "application/json",
                            "X-Telegram-Bot-Api-Secret-Token": "s3cret-token",
                        },
                    )
                    assert good.status == 200
                    assert await eventually(lambda: bool(answers(fake, "Servers:")))
                    assert len(answers(fake, "Servers:")) == 1  # the refused update never ran
                assert fake.sent("setWebhook")[0]["secret_token"] == "s3cret-token"
        finally:
            await orchestrator.stop()


async def test_a_restart_does_not_handle_answered_updates_again() -> None:
    async with FakeTelegram() as fake:
        async with running_bot(fake, orchestrator_for()):
            fake.message_update("/status", chat_id=3, chat_type="private")
            assert await eventually(lambda: len(answers(fake, "Servers:")) == 1)
        async with running_bot(fake, orchestrator_for()):
            fake.message_update("/help", chat_id=3, chat_type="private")
            # /help is answered after /status would have been (one person's messages in order)
            assert await eventually(lambda: bool(answers(fake, "Commands:")))
        assert len(answers(fake, "Servers:")) == 1


async def test_slow_answers_post_one_working_notice_that_the_answer_replaces() -> None:
    release = threading.Event()

    def slow(body: dict[str, Any]) -> dict[str, Any]:
        release.wait(60)  # the model answers once the notice is up
        return text("finally done")

    with FakeOpenAI([slow]) as llm:
        async with (
            FakeTelegram() as fake,
            running_bot(fake, orchestrator_for(llm.base_url), working_notice_seconds=0.2),
        ):
            fake.message_update("take your time", chat_id=8, chat_type="private")
            assert await eventually(lambda: bool(answers(fake, "Working on it")), 30)
            release.set()
            assert await eventually(
                lambda: bool(
                    [e for e in fake.sent("editMessageText") if "finally done" in e["text"]]
                )
            )
    notices = answers(fake, "Working on it")
    assert len(notices) == 1
    assert not answers(fake, "finally done")  # the notice was edited into the answer


THINKING = re.compile(r"Working on it… \(\d+s: thinking\)")


async def test_the_working_notice_says_what_the_request_is_doing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telegram_working, "PROGRESS_EVERY", 0.2)  # 10 s in production

    shown: list[FakeTelegram] = []

    def notices() -> list[str]:
        fake = shown[0]
        return [p["text"] for p in fake.sent() if "Working on it" in p["text"]] + [
            e["text"] for e in fake.sent("editMessageText")
        ]

    def slow_thinking(body: dict[str, Any]) -> dict[str, Any]:
        # The model "thinks" until the notice says so (posted or edited in): an event, not a
        # time, so a slow start (both encoders on a loaded machine) cannot flip the result.
        deadline = time.monotonic() + 60
        while not any(THINKING.fullmatch(t) for t in notices()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return tool_call("sleepy__sleep", {"seconds": 1.5})

    sleepy = f"  sleepy:\n    command: {sys.executable}\n    args: ['{SERVERS}', 'sleepy']\n"
    with FakeOpenAI([slow_thinking, text("Slept well.")]) as llm:
        async with (
            FakeTelegram() as fake,
            running_bot(fake, orchestrator_for(llm.base_url, sleepy), working_notice_seconds=0.2),
        ):
            shown.append(fake)
            fake.message_update("sleep a bit", chat_id=9, chat_type="private")
            assert await eventually(
                lambda: any("Slept well." in e["text"] for e in fake.sent("editMessageText"))
            )
    assert len(answers(fake, "Working on it")) == 1  # one notice, edited in place
    said = notices()
    assert any(THINKING.fullmatch(t) for t in said), said  # while the model was thinking
    edits = [e["text"] for e in fake.sent("editMessageText")]
    assert any(re.fullmatch(r"Working on it… \(\d+s: running sleepy/sleep\)", t) for t in edits)
    assert "Slept well." in edits[-1]  # and the answer replaced the notice


async def test_a_failing_handler_is_logged_answered_briefly_and_the_bot_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeTelegram() as fake, running_bot(fake, orchestrator_for()):
        fake.fail_next("sendMessage", 400, "Bad Request: message thread not found")
        update_id = fake.message_update("/status", chat_id=4, chat_type="private")
        assert await eventually(lambda: bool(answers(fake, "something went wrong")))
        fake.message_update("/help", chat_id=4, chat_type="private")
        assert await eventually(lambda: bool(answers(fake, "Commands:")))
    assert any(
        f"telegram_update_failed update_id={update_id}" in r.getMessage() for r in caplog.records
    )


async def test_the_admins_list_grants_config_to_listed_users_only() -> None:
    orchestrator = build_orchestrator(
        parse_config(
            "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
            "admins: ['telegram:1', 'discord:2']\n"
            "chats:\n  'telegram:-100': {admins: ['3']}\n",
            env={},
        )
    )
    async with FakeTelegram() as fake, running_bot(fake, orchestrator):
        for user_id in (1, 2, 3):  # listed; listed for Discord only; a chat-level admin
            fake.message_update(f"/config@{BOT_USERNAME}", user_id=user_id)
        fake.message_update("/config", chat_id=-200, user_id=3)  # not an admin in that chat
        assert await eventually(lambda: len(fake.sent()) >= 4)
    by_chat_user = {
        (p["chat_id"], u["message"]["from"]["id"]): p["text"]
        for p in fake.sent()
        for u in fake.delivered
        if u["message"]["message_id"] == p["reply_parameters"]["message_id"]
    }
    assert "admins:" in by_chat_user[(-100, 1)] and "telegram:1" in by_chat_user[(-100, 1)]
    assert "for admins only" in by_chat_user[(-100, 2)]  # `discord:2` is not `telegram:2`
    assert "admins:" in by_chat_user[(-100, 3)]
    assert "for admins only" in by_chat_user[(-200, 3)]
