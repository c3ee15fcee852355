"""Exactly once on Discord, at the wire: a gateway replay of a message, or a replayed slash
command, is answered once and runs its tool once; a failure while answering a message still
gets a short answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from orchestrator.core import Orchestrator
from tests.discord_wire import BOB, GENERAL, discord_wire
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, text
from tests.helpers import chat_orchestrator, clickup_orchestrator


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    with FakeOpenAI(default=text("Deploy is green.")) as fake:
        yield fake


@pytest.fixture
async def orchestrator(llm: FakeOpenAI) -> AsyncIterator[Orchestrator]:
    orchestrator = chat_orchestrator(llm.base_url, with_time_server=False)
    await orchestrator.start()
    yield orchestrator
    await orchestrator.stop()


def replies_to(sent: list[dict[str, object]], message_id: object) -> int:
    return sum(
        1
        for m in sent
        if (m.get("message_reference") or {}).get("message_id") == message_id  # type: ignore[attr-defined]
    )


async def test_a_message_dispatched_twice_is_answered_once(
    orchestrator: Orchestrator, llm: FakeOpenAI
) -> None:
    async with discord_wire(orchestrator) as wire:
        asked = wire.message("how is the deploy?", mention=True)
        await wire.sent_at_least(2, GENERAL)  # the answer and its summary line
        wire.dispatch_message(asked)  # the gateway replays the same MESSAGE_CREATE
        # Ann's next message waits for her earlier ones (one person's messages in order), so
        # its answer proves the replay was handled, and dropped, before it.
        marker = wire.message("and the tests?", mention=True)
        sent = await wire.sent_at_least(
            4, GENERAL
        )  # the marker's answer proves the replay's turn passed
        assert replies_to(sent, marker["id"]) == 1
        assert replies_to(sent, asked["id"]) == 1 and len(sent) == 4
        assert len(llm.requests) == 2


async def test_a_replayed_slash_run_calls_the_tool_once() -> None:
    with FakeClickUp() as clickup:
        orchestrator = clickup_orchestrator(clickup.url, clickup.token)
        await orchestrator.start()
        try:
            async with discord_wire(orchestrator) as wire:
                args = {
                    "server": "clickup",
                    "tool": "create_task",
                    "arguments": '{"list_id": "L1", "name": "Chase INV-7"}',
                }
                asked = wire.slash("run", args)
                answers = await wire.answered(asked)
                wire.replay(asked)  # the same INTERACTION_CREATE again
                marker = wire.slash("help")  # a later interaction, answered: the replay is done
                await wire.answered(marker)
                assert asked.answers() == answers and len(answers) == 1
                assert "create_task" in answers[0]["content"]
                assert wire.refusals() == []  # no second callback for the replay
        finally:
            await orchestrator.stop()
    assert len([r for r in clickup.requests if r[0] == "POST"]) == 1


async def test_a_failure_while_answering_a_message_is_answered_briefly(
    orchestrator: Orchestrator,
) -> None:
    async with discord_wire(orchestrator) as wire:
        wire.api.faults.fail_next(400, match="/messages")  # Discord refuses the answer
        wire.message("status?", mention=True)
        await wire.until(lambda: 400 in wire.refusals())
        (brief,) = await wire.sent_at_least(1, GENERAL)
        assert brief["content"] == "Sorry, something went wrong."
        marker = wire.message("still there?", author=BOB, mention=True)
        sent = await wire.sent_at_least(3, GENERAL)  # nothing else came before the marker's answer
        assert replies_to(sent, marker["id"]) == 1 and len(sent) == 3
