"""The real discord.py client driven by dpytest; slash commands through stand-in interactions."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest

from bots.discord_bot import ConfirmView, OrchestratorBot, create_bot
from orchestrator.app import build_orchestrator
from orchestrator.commands.registry import CommandContext, Param
from orchestrator.config import DiscordSettings, load_config
from orchestrator.core import Orchestrator
from orchestrator.messages import Choice, Reply
from tests.fakes.openai_server import FakeOpenAI, text
from tests.helpers import chat_orchestrator


def make_orchestrator(llm_url: str | None = None) -> Orchestrator:
    return chat_orchestrator(llm_url, with_time_server=False)


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def bot(llm: FakeOpenAI) -> AsyncIterator[OrchestratorBot]:
    orchestrator = make_orchestrator(llm.base_url)
    await orchestrator.start()
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    client = OrchestratorBot(DiscordSettings(sync="none"), orchestrator, intents=intents)
    await client._async_setup_hook()
    dpytest.configure(client, members=2)
    yield client
    await dpytest.empty_queue()
    await orchestrator.stop()


async def test_mention_gets_a_reply_in_the_same_channel(
    bot: OrchestratorBot, llm: FakeOpenAI
) -> None:
    llm.default = text("Deploy is green.")
    channel = dpytest.get_config().channels[0]
    await dpytest.message(f"<@{bot.user.id}> how is the deploy?", channel=channel)
    answer = dpytest.get_message()
    assert answer.content == "Deploy is green." and answer.channel == channel
    assert llm.requests[0]["body"]["messages"][-1]["content"].endswith("how is the deploy?")
    assert dpytest.get_message().content.startswith("-# Summary")


async def test_chatter_without_a_mention_gets_nothing(
    bot: OrchestratorBot, llm: FakeOpenAI
) -> None:
    await dpytest.message("anyone seen my keys?")
    assert dpytest.verify().message().nothing()
    assert llm.requests == []


async def test_long_answer_is_split_with_code_blocks_closed(
    bot: OrchestratorBot, llm: FakeOpenAI
) -> None:
    code = "\n".join(f"result_{i} = fetch({i})" for i in range(120))
    llm.default = text("Report:\n\n" + "word " * 300 + f"\n\n```python\n{code}\n```\n\nDone.")
    await dpytest.message(f"<@{bot.user.id}> report please")
    parts = []
    while not dpytest.sent_queue.empty():
        parts.append(dpytest.get_message().content)
    body = [p for p in parts if not p.startswith("-# Summary")]
    assert sum(len(p) for p in body) > 4000 and len(body) >= 3
    assert all(len(p) <= 2000 for p in parts)
    assert all(p.count("```") % 2 == 0 for p in body)
    joined = "\n".join(body)
    assert [joined.index(f"result_{i} = fetch({i})") for i in (0, 60, 119)] == sorted(
        joined.index(f"result_{i} = fetch({i})") for i in (0, 60, 119)
    )


async def test_a_direct_message_is_answered_without_a_mention(
    bot: OrchestratorBot, llm: FakeOpenAI
) -> None:
    llm.default = text("Hi in private.")
    member = dpytest.get_config().members[0]
    dm = await member.create_dm()
    await dpytest.message("hello there", channel=dm, member=member)
    assert dpytest.get_message().content == "Hi in private."


def test_the_tree_holds_every_registry_command_with_its_parameters() -> None:
    orchestrator = make_orchestrator()
    client = create_bot(DiscordSettings(sync="none"), orchestrator)
    tree = {c.name: c for c in client.tree.get_commands()}
    assert set(tree) == {c.name for c in orchestrator.commands}
    for command in orchestrator.commands:
        slash = tree[command.name]
        assert [p.name for p in slash.parameters] == [p.name for p in command.params]
        for param, option in zip(command.params, slash.parameters, strict=True):
            assert option.required == param.required
            assert option.description == param.description[:100]
            assert [c.value for c in option.choices] == list(param.choices)
    assert tree["memory"].parameters[0].type is discord.AppCommandOptionType.integer


INTERACTION_IDS = itertools.count(900_000)


class StandInInteraction:
    """Records what the bot does with an interaction, and when."""

    def __init__(self, user_id: int = 1, admin: bool = False, interaction_id: int = 0) -> None:
        self.id = interaction_id or next(INTERACTION_IDS)
        self.started = time.monotonic()
        self.calls: list[tuple[str, float, Any]] = []
        self.user = type(
            "U",
            (),
            {
                "id": user_id,
                "name": "ann",
                "display_name": "Ann",
                "guild_permissions": discord.Permissions(administrator=admin),
            },
        )()
        self.channel = type("C", (), {"id": 55})()
        self._done = False
        outer = self

        class Response:
            def is_done(self) -> bool:
                return outer._done

            async def defer(self, **kwargs: Any) -> None:
                outer._done = True
                outer._record("defer", kwargs)

            async def send_message(self, content: str = "", **kwargs: Any) -> None:
                outer._done = True
                outer._record("send_message", content, kwargs)

        class Followup:
            async def send(self, content: str = "", **kwargs: Any) -> None:
                outer._record("followup", content, kwargs)

        self.response, self.followup = Response(), Followup()

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, time.monotonic() - self.started, args))


async def test_slow_slash_command_defers_in_time_then_follows_up() -> None:
    orchestrator = make_orchestrator()

    @orchestrator.commands.command(
        "slowpoke", "Takes five seconds", Param("what", "anything", rest=True)
    )
    async def slowpoke(ctx: CommandContext, args: dict[str, Any]) -> list[Reply]:
        await asyncio.sleep(5)
        return [Reply(f"finished {args['what']}")]

    client = create_bot(DiscordSettings(sync="none"), orchestrator)
    slash = next(c for c in client.tree.get_commands() if c.name == "slowpoke")
    interaction = StandInInteraction()
    await slash.callback(interaction, what="the report")  # type: ignore[call-arg]
    (first, at_first, _), (second, at_second, args) = interaction.calls
    assert first == "defer" and at_first < 2.5  # Discord's deadline is 3 s
    assert second == "followup" and args[0] == "finished the report" and at_second >= 5


async def test_admin_commands_answer_ephemerally() -> None:
    orchestrator = make_orchestrator()
    client = create_bot(DiscordSettings(sync="none"), orchestrator)
    reload_cmd = next(c for c in client.tree.get_commands() if c.name == "reload")
    interaction = StandInInteraction(admin=False)
    await reload_cmd.callback(interaction)  # type: ignore[call-arg]
    name, _, (content, kwargs) = interaction.calls[-1]
    assert "admins only" in content and kwargs["ephemeral"] is True


async def test_confirmation_pressed_by_another_user_is_refused() -> None:
    orchestrator = make_orchestrator()
    client = create_bot(DiscordSettings(sync="none"), orchestrator)
    reply = Reply("Run it?", choices=(Choice("Run it", "/confirm abc"),), for_user_id="1")
    view = ConfirmView(client, reply, "55")
    stranger = StandInInteraction(user_id=2)
    assert await view.interaction_check(stranger) is False  # type: ignore[arg-type]
    name, _, (content, kwargs) = stranger.calls[0]
    assert "Only the person who asked" in content and kwargs["ephemeral"] is True
    assert await view.interaction_check(StandInInteraction(user_id=1)) is True  # type: ignore[arg-type]
    admin = StandInInteraction(user_id=3, admin=True)
    assert await view.interaction_check(admin) is True  # type: ignore[arg-type]


async def test_the_admins_list_grants_config_to_a_listed_member_only(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    base = "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
    path.write_text(base)
    orchestrator = build_orchestrator(load_config(path))
    await orchestrator.start()
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    client = OrchestratorBot(DiscordSettings(sync="none"), orchestrator, intents=intents)
    await client._async_setup_hook()
    dpytest.configure(client, members=2)
    try:
        listed, other = dpytest.get_config().members
        assert not any(m.guild_permissions.administrator for m in (listed, other))
        path.write_text(base + f"admins: ['discord:{listed.id}', 'telegram:{other.id}']\n")
        assert "admins" in (await orchestrator.reload_config()).text  # what an admin's /reload does

        await dpytest.message(f"<@{client.user.id}> /config", member=listed)
        shown = sent_texts()  # the config is long: it may span several messages
        await dpytest.message(f"<@{client.user.id}> /config", member=other)
        refused = sent_texts()
    finally:
        await dpytest.empty_queue()
        await orchestrator.stop()
    assert "admins:" in shown and f"discord:{listed.id}" in shown
    assert "/config is for admins only." in refused  # `telegram:<id>` does not count here


def sent_texts() -> str:
    """Every message the bot has sent since the last call, joined (dpytest's queue, drained)."""
    texts = []
    while not dpytest.sent_queue.empty():
        texts.append(dpytest.get_message().content)
    return "\n".join(texts)
