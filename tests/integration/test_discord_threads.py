"""Discord threads at the wire (tests/discord_wire.py): a message in a thread is answered in it,
with its own session, under its parent channel's policy and allow-list; a thread locked or
deleted while the bot works gets a clear message in its channel and loses nothing; a resumed
request and a scheduled post keep their thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bots.discord.resume import message_from_payload, message_payload
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from orchestrator.delivery.base import InboundRequest
from orchestrator.messages import ChatMessage, Reply
from tests.discord_wire import ANN, BOB, GENERAL, REPORTS, DiscordWire, discord_wire
from tests.fakes.openai_server import FakeOpenAI, text
from tests.helpers import chat_orchestrator


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    with FakeOpenAI(default=text("noted")) as fake:
        yield fake


@pytest.fixture
async def orchestrator(llm: FakeOpenAI) -> AsyncIterator[Orchestrator]:
    orchestrator = chat_orchestrator(llm.base_url)
    chats = f"chats:\n  'discord:{GENERAL}': {{respond_to: all, deny: ['time/*']}}\n"
    orchestrator.config.chats.update(parse_config(chats, env={}).chats)
    await orchestrator.start()
    yield orchestrator
    await orchestrator.stop()


@pytest.fixture
async def wire(orchestrator: Orchestrator) -> AsyncIterator[DiscordWire]:
    async with discord_wire(orchestrator) as connected:
        yield connected


def prompt_text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in body["messages"])


def tool_names(body: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in body.get("tools", [])}


async def test_a_message_in_a_thread_is_answered_in_it_with_its_own_session(
    wire: DiscordWire, llm: FakeOpenAI
) -> None:
    thread = wire.thread_create(REPORTS, "weekly report")
    wire.message("the password is alpha", channel=REPORTS, mention=True)
    await wire.sent_at_least(2, REPORTS)
    asked = wire.message("what is the password?", channel=thread, mention=True)
    answer, summary = await wire.sent_at_least(2, thread)
    assert answer["content"] == "noted" and summary["content"].startswith("-# Summary")
    assert answer["message_reference"]["message_id"] == asked["id"]
    assert "alpha" not in prompt_text(llm.requests[1]["body"])  # its own conversation
    wire.message("and again?", channel=thread, author=BOB, mention=True)
    await wire.sent_at_least(4, thread)
    assert "what is the password?" in prompt_text(llm.requests[2]["body"])
    assert len(wire.sent(REPORTS)) == 2  # nothing of the thread's leaked into its channel
    assert wire.refusals() == []


async def test_a_thread_follows_its_channels_policy_and_allow_list(
    wire: DiscordWire, llm: FakeOpenAI
) -> None:
    open_thread = wire.thread_create(GENERAL, "chat")  # its channel: respond_to all, no time/*
    other = wire.thread_create(REPORTS, "report")
    wire.message("no mention in reports' thread", channel=other)
    wire.message("no mention needed here", channel=open_thread)
    await wire.sent_at_least(2, open_thread)
    wire.message("and here with a mention", channel=other, mention=True)
    await wire.sent_at_least(2, other)
    assert len(llm.requests) == 2  # the unaddressed message in REPORTS' thread got nothing
    general_body, reports_body = (r["body"] for r in llm.requests)
    assert not any(name.startswith("time") for name in tool_names(general_body))
    assert any(name.startswith("time") for name in tool_names(reports_body))


async def test_a_thread_locked_while_the_bot_works_gets_a_clear_message_in_its_channel(
    wire: DiscordWire, llm: FakeOpenAI
) -> None:
    thread = wire.thread_create(REPORTS, "incident")

    def lock_then_answer(body: dict[str, Any]) -> dict[str, Any]:
        wire.api.set_thread(thread, archived=True, locked=True)  # a moderator closes it
        return text("The incident is resolved.")

    llm.script = [lock_then_answer]
    wire.message("status of the incident?", channel=thread, mention=True)
    note, answer, summary = await wire.sent_at_least(3, REPORTS)
    assert "**incident**" in note["content"] and "archived and locked" in note["content"]
    assert answer["content"] == "The incident is resolved."
    assert summary["content"].startswith("-# Summary")
    assert 400 in wire.refusals() and wire.sent(thread) == []
    wire.message("still there?", channel=REPORTS, mention=True)  # the bot goes on
    await wire.sent_at_least(5, REPORTS)


async def test_a_thread_deleted_while_the_bot_works_gets_the_answer_in_its_channel(
    wire: DiscordWire, llm: FakeOpenAI
) -> None:
    thread = wire.thread_create(REPORTS, "scratch")

    def delete_then_answer(body: dict[str, Any]) -> dict[str, Any]:
        wire.api.delete_thread(thread)
        return text("Here it is.")

    llm.script = [delete_then_answer]
    wire.message("summarise please", channel=thread, mention=True)
    note, answer, _summary = await wire.sent_at_least(3, REPORTS)
    assert "was deleted" in note["content"] and answer["content"] == "Here it is."


async def test_a_resumed_request_and_a_scheduled_post_keep_their_thread(
    wire: DiscordWire,
) -> None:
    thread = wire.thread_create(REPORTS, "resume")
    asked = wire.api.user_message(thread, ANN, "/status")
    message = ChatMessage(
        "discord", REPORTS, ANN["id"], "/status", message_id=asked["id"], thread_id=thread
    )
    payload = message_payload(int(thread), message)
    restored = message_from_payload(payload)
    assert (restored.chat_id, restored.thread_id) == (REPORTS, thread)
    assert restored.conversation_key == f"discord:{REPORTS}:{thread}"
    await wire.bot.resume(InboundRequest(f"discord:message:{asked['id']}", "discord", payload))
    [status] = await wire.sent_at_least(1, thread)
    assert "Servers:" in status["content"]
    assert status["message_reference"]["message_id"] == asked["id"]
    await wire.bot.send(REPORTS, [Reply("Scheduled abc: post the stats")], thread)
    assert (await wire.sent_at_least(2, thread))[-1]["content"].startswith("Scheduled abc")
    assert wire.sent(REPORTS) == []


async def test_a_channel_can_open_a_thread_for_a_long_answer_named_after_the_request(
    wire: DiscordWire, orchestrator: Orchestrator, llm: FakeOpenAI
) -> None:
    chats = f"chats:\n  'discord:{REPORTS}': {{open_threads: true}}\n"
    orchestrator.config.chats.update(parse_config(chats, env={}).chats)
    llm.default = text("short")
    wire.message("quick one?", channel=REPORTS, mention=True)
    await wire.sent_at_least(2, REPORTS)  # one message: answered in the channel
    llm.default = text("Long report. " + "word " * 600)
    asked = wire.message("write the weekly report\nwith details", channel=REPORTS, mention=True)
    await wire.until(lambda: asked["id"] in wire.api.channels)
    thread = wire.api.channels[asked["id"]]
    assert thread["name"] == "write the weekly report" and thread["parent_id"] == REPORTS
    parts = await wire.sent_at_least(3, asked["id"])
    assert parts[0]["content"].startswith("Long report.") and parts[-1]["content"].startswith("-#")
    assert len(wire.sent(REPORTS)) == 2  # nothing more in the channel itself
    assert wire.refusals() == []
