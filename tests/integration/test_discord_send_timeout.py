"""A Discord send that times out is checked in the channel before anything is sent again.

The real discord.py HTTP client talks to the fake Discord REST API (tests/fakes/discord_api.py),
which can deliver a message and then stall its answer, or stall without delivering; the
adapter's scheduled-post path (`send`) must post each message exactly once either way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import discord
import pytest
from discord.user import ClientUser

from bots.discord.client import OrchestratorBot, create_bot
from orchestrator.config import DiscordSettings
from orchestrator.messages import Reply
from tests.fakes.discord_api import FakeDiscord
from tests.helpers import chat_orchestrator

CHANNEL = "444444444444444442"
REPORT = "Weekly report: all green."


@pytest.fixture
async def api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.base_url)
        yield fake


@pytest.fixture
async def bot(api: FakeDiscord) -> AsyncIterator[OrchestratorBot]:
    orchestrator = chat_orchestrator(with_time_server=False)
    client = create_bot(DiscordSettings(sync="none", send_timeout_seconds=0.5), orchestrator)
    await client._async_setup_hook()
    data = await client.http.static_login(api.token)  # the REST half of `login`
    client._connection.user = ClientUser(state=client._connection, data=data)
    yield client
    await client.http.close()


def posts(api: FakeDiscord) -> list[str]:
    return [c.method for c in api.calls if c.path.endswith(f"/channels/{CHANNEL}/messages")]


async def test_a_send_delivered_before_it_timed_out_is_posted_once(
    api: FakeDiscord, bot: OrchestratorBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.discord.sending")
    api.faults.stall_after_next(5.0, match="/messages")
    await bot.send(CHANNEL, [Reply(REPORT)])
    assert api.posted(CHANNEL) == [REPORT]
    assert posts(api) == ["POST", "GET"]  # sent, timed out, found in the channel: not resent
    assert "discord_send_timeout" in caplog.text and "discord_send_confirmed" in caplog.text


async def test_a_send_lost_before_delivery_is_sent_again_once(
    api: FakeDiscord, bot: OrchestratorBot
) -> None:
    api.faults.stall_next(5.0, match="/messages")
    await bot.send(CHANNEL, [Reply(REPORT), Reply("Next one.")])
    assert api.posted(CHANNEL) == [REPORT, "Next one."]
    assert posts(api) == ["POST", "GET", "POST", "POST"]
    first, resend = [c.body for c in api.calls if c.method == "POST"][:2]
    # the resend carries the first try's nonce, which Discord enforces: if that try lands late
    # after all, the resend returns it instead of posting a second copy
    assert first["nonce"] == resend["nonce"] and resend["enforce_nonce"] is True
