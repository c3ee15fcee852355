"""How a queue worker posts to Discord (bots/discord/sender.py): discord.py's HTTP client, no
gateway, against the fake Discord REST API, which checks each body as Discord does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bots.discord.sender import DiscordSender, discord_sender
from orchestrator.config import DiscordSettings, parse_config
from orchestrator.messages import Choice, Reply, ReplyKind
from orchestrator.queue.base import SendNotDelivered
from tests.discord_wire import ANN, REPORTS
from tests.fakes.discord_api import FakeDiscord

UNKNOWN_CHANNEL = "444444444444444499"


@pytest.fixture
async def api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.base_url)
        yield fake


@pytest.fixture
async def sender(api: FakeDiscord) -> AsyncIterator[DiscordSender]:
    worker = DiscordSender(DiscordSettings(token=api.token))
    await worker.start()  # login: GET /users/@me with the bot token
    yield worker
    await worker.close()


async def test_a_long_answer_goes_out_as_parts_replying_to_the_question(
    api: FakeDiscord, sender: DiscordSender
) -> None:
    asked = api.user_message(REPORTS, ANN, "weekly report?")
    replies = [Reply("word " * 900), Reply("Summary: 1 step", ReplyKind.SUMMARY)]
    parts = sender.render(replies)
    assert [p.index for p in parts] == list(range(len(parts))) and len(parts) == 4
    for part in parts:
        await sender.send(
            REPORTS, part, asked["id"] if part.index == 0 else None, f"job1:{part.index}"
        )
    sent = [m for m in api.messages if not m.get("_user")]
    assert [m["content"] for m in sent] == [str(p.body) for p in parts]
    assert sent[-1]["content"] == "-# Summary: 1 step"
    assert sent[0]["message_reference"]["message_id"] == asked["id"]
    assert all("message_reference" not in m for m in sent[1:])
    assert all(c.status == 200 for c in api.calls)  # each within Discord's limits


async def test_choices_become_buttons_that_a_front_end_relays(
    sender: DiscordSender, api: FakeDiscord
) -> None:
    """A worker cannot receive clicks, so each button's custom_id carries its command and the
    asker (the front end relays the click: tests/integration/test_discord_relay.py); a command
    too long for a custom_id is written out instead."""
    long = "/approve abc " + "server/" + "x" * 100
    choices = (Choice("Run", "/confirm abc"), Choice("No", "/cancel abc"), Choice("Always", long))
    reply = Reply("Run it?", choices=choices, for_user_id=ANN["id"])
    (part,) = sender.render([reply])
    await sender.send(REPORTS, part, None, "job2:0")
    (message,) = api.messages
    assert message["content"] == f"Run it?\nAlways: `{long}`"
    buttons = [c for row in message["components"] for c in row["components"]]
    assert [(b["label"], b["custom_id"]) for b in buttons] == [
        ("Run", f"orc:{ANN['id']}:/confirm abc"),
        ("No", f"orc:{ANN['id']}:/cancel abc"),
    ]


async def test_a_part_sent_again_after_an_unconfirmed_send_is_posted_once(
    sender: DiscordSender, api: FakeDiscord
) -> None:
    (part,) = sender.render([Reply("Deploy is green.")])
    first = await sender.send(REPORTS, part, None, "job3:0")
    again = await sender.send(REPORTS, part, None, "job3:0")  # the worker retries the part
    assert first == again and api.posted(REPORTS) == ["Deploy is green."]
    bodies = [c.body for c in api.calls if c.method == "POST"]
    assert bodies[0]["nonce"] == bodies[1]["nonce"] and bodies[1]["enforce_nonce"] is True


async def test_a_refused_send_is_not_delivered_so_the_worker_does_not_retry_it(
    sender: DiscordSender, api: FakeDiscord
) -> None:
    (part,) = sender.render([Reply("Deploy is green.")])
    with pytest.raises(SendNotDelivered, match="404"):
        await sender.send(UNKNOWN_CHANNEL, part, None, "job4:0")
    api.faults.fail_next(403, match="/messages")  # Missing Access
    with pytest.raises(SendNotDelivered, match="403"):
        await sender.send(REPORTS, part, None, "job4:0")
    assert api.posted() == []


async def test_a_rate_limited_send_waits_as_told_then_posts_once(
    sender: DiscordSender, api: FakeDiscord
) -> None:
    api.faults.fail_next(429, retry_after=0.05, match="/messages")
    (part,) = sender.render([Reply("Deploy is green.")])
    await sender.send(REPORTS, part, None, "job5:0")
    statuses = [c.status for c in api.calls if c.method == "POST"]
    assert statuses == [429, 200] and api.posted(REPORTS) == ["Deploy is green."]


def test_no_token_no_sender() -> None:
    assert discord_sender(parse_config("orchestrator: {name: x}\n", env={})) is None
