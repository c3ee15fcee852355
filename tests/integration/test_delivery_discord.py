"""Exactly once on Discord: a gateway replay of a message, or a replayed slash command, is
answered once and runs its tool once; a failure in on_message still gets a short answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest

from bots.discord_bot import OrchestratorBot, create_bot
from orchestrator.config import DiscordSettings
from orchestrator.core import Orchestrator
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, text
from tests.helpers import chat_orchestrator, clickup_orchestrator
from tests.integration.test_discord_bot import StandInInteraction


async def started_bot(orchestrator: Orchestrator) -> OrchestratorBot:
    await orchestrator.start()
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    client = OrchestratorBot(DiscordSettings(sync="none"), orchestrator, intents=intents)
    await client._async_setup_hook()
    dpytest.configure(client, members=2)
    return client


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    with FakeOpenAI(default=text("Deploy is green.")) as fake:
        yield fake


async def test_a_message_dispatched_twice_is_answered_once(llm: FakeOpenAI) -> None:
    orchestrator = chat_orchestrator(llm.base_url, with_time_server=False)
    bot = await started_bot(orchestrator)
    try:
        message = await dpytest.message(f"<@{bot.user.id}> how is the deploy?")
        assert dpytest.get_message().content == "Deploy is green."
        dpytest.get_message()  # the summary line
        await bot.on_message(message)  # the gateway replays the same MESSAGE_CREATE
        assert dpytest.verify().message().nothing()
        assert len(llm.requests) == 1
    finally:
        await dpytest.empty_queue()
        await orchestrator.stop()


async def test_a_replayed_slash_run_calls_the_tool_once() -> None:
    with FakeClickUp() as clickup:
        orchestrator = clickup_orchestrator(clickup.url, clickup.token)
        await orchestrator.start()
        try:
            client = create_bot(DiscordSettings(sync="none"), orchestrator)
            run = next(c for c in client.tree.get_commands() if c.name == "run")
            interaction = StandInInteraction()
            args: dict[str, Any] = {
                "server": "clickup",
                "tool": "create_task",
                "arguments": '{"list_id": "L1", "name": "Chase INV-7"}',
            }
            await run.callback(interaction, **args)  # type: ignore[call-arg]
            await run.callback(interaction, **args)  # type: ignore[call-arg]
        finally:
            await orchestrator.stop()
    assert len([r for r in clickup.requests if r[0] == "POST"]) == 1
    answers = [c for c in interaction.calls if c[0] in ("send_message", "followup")]
    assert len(answers) == 1 and "create_task" in answers[0][2][0]


async def test_a_failure_while_answering_a_message_is_answered_briefly(llm: FakeOpenAI) -> None:
    orchestrator = chat_orchestrator(llm.base_url, with_time_server=False)
    bot = await started_bot(orchestrator)

    async def broken(message: object) -> list[object]:
        raise RuntimeError("boom")

    orchestrator.handle = broken  # type: ignore[assignment,method-assign]
    try:
        await dpytest.message(f"<@{bot.user.id}> status?")
        assert dpytest.get_message().content == "Sorry, something went wrong."
        assert dpytest.verify().message().nothing()
    finally:
        await dpytest.empty_queue()
        await orchestrator.stop()
