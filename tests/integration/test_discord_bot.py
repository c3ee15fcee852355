"""The Discord bot at the wire: gateway payloads in through discord.py's own state, answers out
through discord.py's HTTP and webhook code to the fake Discord REST API (tests/discord_wire.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bots.discord.client import create_bot
from orchestrator.app import build_orchestrator
from orchestrator.commands.registry import CommandContext, Param
from orchestrator.config import DiscordSettings, load_config
from orchestrator.core import Orchestrator
from orchestrator.messages import Choice, Reply
from tests.discord_wire import ADA, ANN, BOB, DM_CHANNEL, GENERAL, DiscordWire, discord_wire
from tests.fakes.discord_checks import EPHEMERAL
from tests.fakes.discord_interactions import DEFERRED_MESSAGE, UPDATE
from tests.fakes.openai_server import FakeOpenAI, text
from tests.helpers import chat_orchestrator


def make_orchestrator(llm_url: str | None = None) -> Orchestrator:
    return chat_orchestrator(llm_url, with_time_server=False)


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def orchestrator(llm: FakeOpenAI) -> AsyncIterator[Orchestrator]:
    orchestrator = make_orchestrator(llm.base_url)
    await orchestrator.start()
    yield orchestrator
    await orchestrator.stop()


@pytest.fixture
async def wire(orchestrator: Orchestrator) -> AsyncIterator[DiscordWire]:
    async with discord_wire(orchestrator) as connected:
        yield connected


async def test_mention_gets_a_threaded_reply_in_the_same_channel(
    wire: DiscordWire, llm: FakeOpenAI
) -> None:
    llm.default = text("Deploy is green.")
    asked = wire.message("how is the deploy?", mention=True)
    answer, summary = await wire.sent_at_least(2, GENERAL)
    assert answer["content"] == "Deploy is green."
    assert answer["message_reference"]["message_id"] == asked["id"]  # a reply to the question
    assert answer["_allowed_mentions"]["replied_user"] is False  # without pinging the asker
    assert summary["content"].startswith("-# Summary")
    assert llm.requests[0]["body"]["messages"][-1]["content"].endswith("how is the deploy?")
    assert wire.refusals() == []


async def test_chatter_without_a_mention_gets_nothing(wire: DiscordWire, llm: FakeOpenAI) -> None:
    llm.default = text("Here.")
    wire.message("anyone seen my keys?")
    marker = wire.message("are you there?", author=BOB, mention=True)  # a later, addressed one
    answer, _summary = await wire.sent_at_least(2)
    assert answer["message_reference"]["message_id"] == marker["id"]
    assert len(llm.requests) == 1  # the chatter never reached the model
    assert llm.requests[0]["body"]["messages"][-1]["content"].endswith("are you there?")


async def test_long_answer_is_split_with_code_blocks_closed(
    wire: DiscordWire, llm: FakeOpenAI
) -> None:
    code = "\n".join(f"result_{i} = fetch({i})" for i in range(120))
    llm.default = text("Report:\n\n" + "word " * 300 + f"\n\n```python\n{code}\n```\n\nDone.")
    wire.message("report please", mention=True)
    await wire.until(lambda: any(m["content"].startswith("-# Summary") for m in wire.sent()))
    parts = [m["content"] for m in wire.sent()]
    body = [p for p in parts if not p.startswith("-# Summary")]
    assert sum(len(p) for p in body) > 4000 and len(body) >= 3
    assert wire.refusals() == []  # each part within Discord's 2,000 characters
    assert all(p.count("```") % 2 == 0 for p in body)
    joined = "\n".join(body)
    positions = [joined.index(f"result_{i} = fetch({i})") for i in (0, 60, 119)]
    assert positions == sorted(positions)


async def test_a_direct_message_is_answered_without_a_mention(
    wire: DiscordWire, llm: FakeOpenAI
) -> None:
    llm.default = text("Hi in private.")
    wire.message("hello there", channel=DM_CHANNEL)
    (answer, *_rest) = await wire.sent_at_least(1, DM_CHANNEL)
    assert answer["content"] == "Hi in private."


def test_the_tree_holds_every_registry_command_with_its_parameters() -> None:
    orchestrator = make_orchestrator()
    client = create_bot(DiscordSettings(sync="none"), orchestrator)
    tree = {c.name: c for c in client.tree.get_commands()}
    assert set(tree) == {c.name for c in orchestrator.commands}
    for command in orchestrator.commands:
        slash = tree[command.name]
        assert isinstance(slash, discord.app_commands.Command)
        assert [p.name for p in slash.parameters] == [p.name for p in command.params]
        for param, option in zip(command.params, slash.parameters, strict=True):
            assert option.required == param.required
            assert option.description == param.description[:100]
            assert [c.value for c in option.choices] == list(param.choices)
    memory = tree["memory"]
    assert isinstance(memory, discord.app_commands.Command)
    assert memory.parameters[0].type is discord.AppCommandOptionType.integer


async def test_slow_slash_command_defers_in_time_then_follows_up(llm: FakeOpenAI) -> None:
    orchestrator = make_orchestrator(llm.base_url)
    release = asyncio.Event()

    @orchestrator.commands.command(
        "slowpoke", "Takes its time", Param("what", "anything", rest=True)
    )
    async def slowpoke(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        await release.wait()  # longer than Discord's 3 s would allow an answer to take
        return [Reply(f"finished {args['what']}")]

    await orchestrator.start()
    try:
        async with discord_wire(orchestrator) as wire:
            asked = wire.slash("slowpoke", {"what": "the report"})
            await wire.until(lambda: bool(asked.responses))
            assert asked.responses == [DEFERRED_MESSAGE]  # accepted: within the 3 s deadline
            release.set()
            (answer,) = await wire.answered(asked)
            assert answer["content"] == "finished the report"
            assert wire.refusals() == []
    finally:
        await orchestrator.stop()


async def test_admin_commands_answer_ephemerally(wire: DiscordWire) -> None:
    asked = wire.slash("reload", user=ANN)
    (answer,) = await wire.answered(asked)
    assert asked.responses == [DEFERRED_MESSAGE]  # /reload may be slow: deferred at once
    assert asked.original is not None and asked.original["flags"] & EPHEMERAL  # thinking, privately
    assert "admins only" in answer["content"] and answer["flags"] & EPHEMERAL


async def test_an_interaction_answered_too_late_is_refused_by_discord_and_logged(
    wire: DiscordWire, caplog: pytest.LogCaptureFixture
) -> None:
    """The fake holds the bot to the 3 s deadline: an interaction that reached the bot late
    (a stalled event loop, a slow gateway) is refused, as Discord refuses it."""
    asked = wire.slash("help", age=4.0)
    await wire.until(lambda: 404 in wire.refusals())
    assert asked.responses == [] and asked.answers() == []
    failed = [c for c in wire.api.calls if c.status == 404]
    assert failed[0].path.endswith(f"/interactions/{asked.id}/{asked.token}/callback")


async def test_confirmation_pressed_by_another_user_is_refused(
    wire: DiscordWire, orchestrator: Orchestrator
) -> None:
    reply = Reply("Run it?", choices=(Choice("Run it", "/help"),), for_user_id=ANN["id"])
    await wire.bot.send(GENERAL, [reply])  # the question, with its button, as a post
    (question,) = await wire.sent_at_least(1, GENERAL)
    assert [c["label"] for c in question["components"][0]["components"]] == ["Run it"]

    stranger = wire.press(question, "Run it", user=BOB)
    (refusal,) = await wire.answered(stranger)
    assert "Only the person who asked" in refusal["content"]
    assert refusal["flags"] & EPHEMERAL
    assert question["components"]  # a refused press leaves the buttons

    admin = wire.press(question, "Run it", user=ADA)  # an admin may answer for the asker
    (ran,) = await wire.answered(admin)
    assert admin.responses == [UPDATE] and "/help" in ran["content"]
    assert question["components"] == [] and question["content"] == "Run it?"
    assert wire.refusals() == []


async def test_the_asker_presses_the_button_and_the_choice_runs(wire: DiscordWire) -> None:
    """Acknowledged by taking the buttons away (UPDATE_MESSAGE), answered by follow-up."""
    reply = Reply("Run it?", choices=(Choice("Run it", "/help"),), for_user_id=ANN["id"])
    await wire.bot.send(GENERAL, [reply])
    (question,) = await wire.sent_at_least(1, GENERAL)
    pressed = wire.press(question, "Run it", user=ANN)
    (answer,) = await wire.answered(pressed)
    assert pressed.responses == [UPDATE] and "/help" in answer["content"]
    assert question["components"] == []
    callback = next(c for c in wire.api.calls if c.path.endswith(f"/{pressed.token}/callback"))
    assert callback.body is not None and callback.body["data"]["components"] == []


async def test_a_replayed_press_runs_its_command_once(
    wire: DiscordWire, orchestrator: Orchestrator
) -> None:
    """The gateway delivers the same press again: dropped, the command ran once; the buttons
    stay gone."""
    ran: list[str] = []

    async def count(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        ran.append(ctx.message.user_id)
        return [Reply("counted")]

    orchestrator.commands.command("count", "counts its runs")(count)
    reply = Reply("Count?", choices=(Choice("Count", "/count"),), for_user_id=ANN["id"])
    await wire.bot.send(GENERAL, [reply])
    (question,) = await wire.sent_at_least(1, GENERAL)
    pressed = wire.press(question, "Count", user=ANN)
    await wire.answered(pressed)
    wire.replay(pressed)
    await wire.until(lambda: not wire.bot.inflight._held)
    await asyncio.sleep(0.2)
    assert ran == [ANN["id"]] and len(pressed.answers()) == 1
    assert pressed.responses == [UPDATE] and question["components"] == []
    assert wire.refusals() == []


async def test_the_admins_list_grants_config_to_a_listed_member_only(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    base = "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
    path.write_text(base)
    orchestrator = build_orchestrator(load_config(path))
    await orchestrator.start()
    try:
        async with discord_wire(orchestrator) as wire:
            path.write_text(base + f"admins: ['discord:{ANN['id']}', 'telegram:{BOB['id']}']\n")
            # what an admin's /reload does
            assert "admins" in (await orchestrator.reload_config()).text

            wire.message("/config", author=ANN, mention=True)
            await wire.until(lambda: any("admins:" in m["content"] for m in wire.sent()))
            shown = "\n".join(m["content"] for m in wire.sent())
            before = len(wire.sent())
            wire.message("/config", author=BOB, mention=True)
            await wire.until(lambda: len(wire.sent()) > before)
            refused = "\n".join(m["content"] for m in wire.sent()[before:])
    finally:
        await orchestrator.stop()
    assert "admins:" in shown and f"discord:{ANN['id']}" in shown
    assert "/config is for admins only." in refused  # `telegram:<id>` does not count here


async def test_a_private_message_opens_the_persons_dm_channel(wire: DiscordWire) -> None:
    """Sign-in links (issue 32) go by DM: Create DM, then a post in that channel."""
    await wire.bot.send_private(BOB["id"], [Reply("Sign in to docs: https://as.example/a?x=1")])
    opened = [c for c in wire.api.calls if c.path == "/api/v10/users/@me/channels"]
    assert [str(c.body["recipient_id"]) for c in opened] == [BOB["id"]]  # type: ignore[index]
    dm = next(
        c
        for c in wire.api.channels.values()
        if c["type"] == 1 and c["recipients"][0]["id"] == BOB["id"]
    )
    (sent,) = await wire.sent_at_least(1, dm["id"])
    assert sent["content"].startswith("Sign in to docs: https://as.example/a?x=1")


async def test_a_press_whose_follow_up_is_refused_is_answered_in_the_channel(
    wire: DiscordWire, caplog: pytest.LogCaptureFixture
) -> None:
    """A run longer than the follow-up token's 15 minutes: Discord refuses the follow-up (the
    fake's window is set to 0 s), and the answer goes to the channel, replying to the question,
    once."""
    reply = Reply("Run it?", choices=(Choice("Run it", "/help"),), for_user_id=ANN["id"])
    await wire.bot.send(GENERAL, [reply])
    (question,) = await wire.sent_at_least(1, GENERAL)
    wire.api.routes.follow_up_for = 0.0
    pressed = wire.press(question, "Run it", user=ANN)
    _question, answer = await wire.sent_at_least(2, GENERAL)
    assert "/help" in answer["content"]
    assert answer["message_reference"]["message_id"] == question["id"]
    await wire.until(lambda: not wire.bot.inflight._held)
    assert pressed.responses == [UPDATE] and pressed.answers() == []
    assert len(wire.sent(GENERAL)) == 2 and question["components"] == []
    assert "discord_followup_refused" in caplog.text
