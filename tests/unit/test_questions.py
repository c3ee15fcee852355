"""A server's form, asked in chat field by field: typed values, optional fields, bad answers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import mcp_types as types

from orchestrator.mcp.extras import RequestScope
from orchestrator.mcp.questions import Questions, is_answer
from orchestrator.messages import ChatMessage, Reply

SCHEMA = {
    "type": "object",
    "properties": {
        "seats": {"type": "integer", "description": "How many seats"},
        "budget": {"type": "number", "title": "Budget"},
        "note": {"type": "string", "description": "A note"},
    },
    "required": ["seats", "budget"],
}


def person(user: str = "ann") -> ChatMessage:
    return ChatMessage(platform="test", chat_id="team", user_id=user, text="")


async def test_a_form_is_asked_field_by_field_with_typed_values_and_a_skip() -> None:
    posted: list[Reply] = []

    async def post(message: ChatMessage, replies: Sequence[Reply], private: bool) -> bool:
        posted.extend(replies)
        return True

    questions = Questions(post, lambda server: 30.0)
    params = types.ElicitRequestFormParams(message="Order lunch?", requested_schema=SCHEMA)
    asked = asyncio.ensure_future(questions.ask("lunch", RequestScope(person()), params))
    while not posted:
        await asyncio.sleep(0)
    qid = posted[0].choices[0].command.split()[1]
    assert "lunch asks: Order lunch?" in posted[0].text and "How many seats" in posted[0].text
    assert [c.label for c in posted[0].choices] == ["Decline"]  # seats is required: no Skip
    wrong = questions.answer(person(), qid, "many")
    assert "a whole number" in wrong[0].text and "How many seats" in wrong[1].text
    assert "Only the person" in questions.answer(person("bob"), qid, "3")[0].text
    assert "Budget" in questions.answer(person(), qid, "3")[0].text
    note = questions.answer(person(), qid, "12.5")[0]
    assert "A note" in note.text and [c.label for c in note.choices] == ["Skip", "Decline"]
    assert questions.answer(person(), qid, "--skip")[0].text == "Thanks, sent."
    result = await asked
    assert result.action == "accept" and result.content == {"seats": 3, "budget": 12.5}
    assert "expired" in questions.answer(person(), qid, "1")[0].text


async def test_decline_ends_the_question() -> None:
    posted: list[Reply] = []

    async def post(message: ChatMessage, replies: Sequence[Reply], private: bool) -> bool:
        posted.extend(replies)
        return True

    questions = Questions(post, lambda server: 30.0)
    params = types.ElicitRequestFormParams(message="Order lunch?", requested_schema=SCHEMA)
    asked = asyncio.ensure_future(questions.ask("lunch", RequestScope(person()), params))
    while not posted:
        await asyncio.sleep(0)
    decline = next(c.command for c in posted[0].choices if c.label == "Decline")
    assert is_answer(decline) and not is_answer("/answers") and not is_answer("book a room")
    questions.answer(person(), decline.split()[1], decline.split(maxsplit=2)[2])
    assert (await asked).action == "decline"


async def test_a_form_without_fields_asks_ok_or_decline() -> None:
    posted: list[Reply] = []

    async def post(message: ChatMessage, replies: Sequence[Reply], private: bool) -> bool:
        posted.extend(replies)
        return True

    questions = Questions(post, lambda server: 30.0)
    params = types.ElicitRequestFormParams(
        message="Proceed with the deploy?", requested_schema={"type": "object", "properties": {}}
    )
    asked = asyncio.ensure_future(questions.ask("deploys", RequestScope(person()), params))
    while not posted:
        await asyncio.sleep(0)
    assert posted[0].text == "deploys asks: Proceed with the deploy?"
    assert [c.label for c in posted[0].choices] == ["OK", "Decline"]
    ok = posted[0].choices[0].command
    assert questions.answer(person(), ok.split()[1], "--accept")[0].text == "Thanks, sent."
    assert (await asked).action == "accept"
