"""Whether the core will refuse a button's presser (the adapters keep the buttons then)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import mcp_types as types

from orchestrator.config import parse_config
from orchestrator.mcp.extras import RequestScope
from orchestrator.mcp.questions import Questions
from orchestrator.messages import ChatMessage, Reply
from orchestrator.presses import refuses_press
from orchestrator.sessions.in_process import InProcessSessionStore
from orchestrator.sessions.model import PendingConfirmation

CONFIG = parse_config("admins: ['test:ada']\nscheduler: {enabled: false}\n", env={})


def press(text: str, user: str = "ann") -> ChatMessage:
    return ChatMessage(platform="test", chat_id="team", user_id=user, text=text)


async def test_an_approval_refuses_anyone_but_its_asker_and_an_admin() -> None:
    sessions = InProcessSessionStore()
    session = await sessions.load(press("").conversation_key)
    session.pending["p1"] = PendingConfirmation("p1", "ann", time.time() + 60)
    await sessions.save(press("").conversation_key, session)
    for text in ("/confirm p1", "/cancel p1", "/confirm@ops_bot p1"):
        assert not await refuses_press(CONFIG, sessions, None, press(text))
        assert not await refuses_press(CONFIG, sessions, None, press(text, "ada"))  # an admin
        assert await refuses_press(CONFIG, sessions, None, press(text, "bob"))
    # Answered or expired, another command, plain text: the core does not refuse the presser.
    for text in ("/confirm p2", "/confirm", "/help", "Run all", ""):
        assert not await refuses_press(CONFIG, sessions, None, press(text, "bob"))


async def test_a_question_refuses_anyone_but_the_person_asked_even_an_admin() -> None:
    posted: list[Reply] = []

    async def post(message: ChatMessage, replies: Sequence[Reply], private: bool) -> bool:
        posted.extend(replies)
        return True

    questions = Questions(post, lambda server: 30.0)
    params = types.ElicitRequestFormParams(message="Book?", requested_schema={"type": "object"})
    asked = asyncio.ensure_future(questions.ask("rooms", RequestScope(press("")), params))
    while not posted:
        await asyncio.sleep(0)
    ok = posted[0].choices[0].command
    sessions = InProcessSessionStore()
    assert not await refuses_press(CONFIG, sessions, questions, press(ok))
    assert await refuses_press(CONFIG, sessions, questions, press(ok, "ada"))
    assert await refuses_press(CONFIG, sessions, questions, press(ok, "bob"))
    assert not await refuses_press(CONFIG, sessions, questions, press("/answer gone --accept"))
    questions.answer(press(ok), ok.split()[1], "--accept")
    assert (await asked).action == "accept"
    assert not await refuses_press(CONFIG, sessions, questions, press(ok, "bob"))  # answered


async def test_a_question_waiting_in_another_process_refuses_by_its_shared_record() -> None:
    """The worker's `Questions` records its asker in the session store both processes share; the
    front end's own `Questions` has never heard of the question."""
    posted: list[Reply] = []

    async def post(message: ChatMessage, replies: Sequence[Reply], private: bool) -> bool:
        posted.extend(replies)
        return True

    shared = InProcessSessionStore()
    worker = Questions(post, lambda server: 30.0, shared)
    front = Questions(post, lambda server: 30.0, shared)
    params = types.ElicitRequestFormParams(message="Book?", requested_schema={"type": "object"})
    asked = asyncio.ensure_future(worker.ask("rooms", RequestScope(press("")), params))
    while not posted:
        await asyncio.sleep(0)
    ok = posted[0].choices[0].command
    qid = ok.split()[1]
    assert not front.knows(qid)
    assert await shared.question_asker("test:team", qid) == "ann"
    assert not await refuses_press(CONFIG, shared, front, press(ok))
    assert await refuses_press(CONFIG, shared, front, press(ok, "ada"))  # an admin too
    assert await refuses_press(CONFIG, shared, front, press(ok, "bob"))
    elsewhere = ChatMessage(platform="test", chat_id="other", user_id="bob", text=ok)
    assert not await refuses_press(CONFIG, shared, front, elsewhere)  # another chat: no record
    assert not await refuses_press(CONFIG, shared, front, press("/answer test:team:x 1", "bob"))
    worker.answer(press(ok), qid, "--accept")
    assert (await asked).action == "accept"
    assert await shared.question_asker("test:team", qid) is None  # answered: dropped
    assert not await refuses_press(CONFIG, shared, front, press(ok, "bob"))


async def test_a_questions_record_goes_when_it_times_out() -> None:
    posted: list[Reply] = []

    async def post(message: ChatMessage, replies: Sequence[Reply], private: bool) -> bool:
        posted.extend(replies)
        return True

    shared = InProcessSessionStore()
    worker = Questions(post, lambda server: 0.05, shared)
    params = types.ElicitRequestFormParams(message="Book?", requested_schema={"type": "object"})
    result = await worker.ask("rooms", RequestScope(press("")), params)
    assert result.action == "decline"
    qid = posted[0].choices[0].command.split()[1]
    assert await shared.question_asker("test:team", qid) is None
    assert not await refuses_press(CONFIG, shared, None, press(posted[0].choices[0].command, "bob"))
