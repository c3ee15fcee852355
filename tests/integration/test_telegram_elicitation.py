"""A server's question during a tool call, on Telegram at the wire (issue 32): inline buttons
for the asker only, pressed while their own request waits; a URL request as a private message."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_server import FakeOpenAI, last_tool_result, text, tool_call
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import chat_orchestrator, eventually, features_server_yaml, running_bot

FEATURES = features_server_yaml()


def posted(fake: FakeTelegram, contains: str, chat_id: int | None = None) -> list[dict[str, Any]]:
    return [
        p
        for p in fake.sent()
        if contains in str(p.get("text", ""))
        and (chat_id is None or str(p.get("chat_id")) == str(chat_id))
    ]


def button(message: dict[str, Any], label: str) -> str:
    rows = message["reply_markup"]["inline_keyboard"]
    return str(next(b["callback_data"] for row in rows for b in row if b["text"] == label))


async def test_a_servers_question_is_answered_with_buttons_by_the_asker_only() -> None:
    script = [
        tool_call("features__book_room", {"room": "A"}),
        lambda body: text("Result: " + last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        bot = chat_orchestrator(llm.base_url, FEATURES)
        async with FakeTelegram() as fake, running_bot(fake, bot):
            fake.message_update(f"@{BOT_USERNAME} book meeting room A for me", user_id=1)
            assert await eventually(lambda: bool(posted(fake, "Book room A?")))
            question = posted(fake, "Book room A?")[0]
            yes = button(question, "Yes")
            asked_id = fake.message_id_of("Book room A?")
            fake.callback_update(yes, message_id=asked_id, user_id=2)
            assert await eventually(lambda: bool(fake.sent("answerCallbackQuery")))
            refusal = fake.sent("answerCallbackQuery")[0]
            assert refusal["show_alert"] is True and "Only the person" in refusal["text"]
            fake.callback_update(yes, message_id=asked_id, user_id=1)
            assert await eventually(lambda: bool(posted(fake, "Room size")))
            size = posted(fake, "Room size")[0]
            fake.callback_update(
                button(size, "large"), message_id=fake.message_id_of("Room size"), user_id=1
            )
            assert await eventually(lambda: bool(posted(fake, "Result: booked A (large)")))
    labels = [b["text"] for row in question["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Yes", "No", "Decline"]


async def test_a_sign_in_link_goes_by_private_message_not_into_the_group() -> None:
    script = [
        tool_call("features__connect_account", {}),
        lambda body: text("Result: " + last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        bot = chat_orchestrator(llm.base_url, FEATURES)
        async with FakeTelegram() as fake, running_bot(fake, bot):
            fake.add_chat(1, "Ann", chat_type="private")
            fake.message_update(f"@{BOT_USERNAME} connect my external calendar account")
            assert await eventually(lambda: bool(posted(fake, "Result: connect accept")))
    assert posted(fake, "calendar.example.com/connect", chat_id=1)
    assert not posted(fake, "calendar.example.com", chat_id=-100)
    assert posted(fake, "private message", chat_id=-100)
