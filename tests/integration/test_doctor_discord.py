"""`orchestrator doctor`'s Discord checks: the real discord.py HTTP client against the fake
Discord REST API (login, application flags, guilds, synced slash commands, channels), read
through the CLI's report and exit code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord.http
import pytest

from orchestrator.cli import main as cli_main
from tests.fakes.discord_api import (
    GATEWAY_MESSAGE_CONTENT,
    GUILD_ID,
    FakeDiscord,
    slash_command,
)
from tests.fakes.openai_server import FakeOpenAI, text
from tests.helpers import add_schedule

REPORTS = "444444444444444442"  # a text channel of the fake's guild


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as api:
        yield api


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=text("OK")) as server:
        yield server


@pytest.fixture(autouse=True)
def discord_at_the_fake(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py builds every request URL from `Route.BASE`: point it at the fake."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake.base_url)


def write_config(
    tmp_path: Path,
    fake: FakeDiscord,
    llm: FakeOpenAI,
    *,
    token: str | None = None,
    respond_to: str = "mentions",
    sync: str = "guild",
) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
        "  memory_system: {type: none}\n"
        f"bots:\n  discord:\n    token: '{token or fake.token}'\n    respond_to: {respond_to}\n"
        f"    sync: {sync}\n    guild_ids: [{GUILD_ID}]\n"
        f"scheduler: {{path: '{tmp_path / 's.json'}'}}\n"
    )
    return path


async def doctor(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """`orchestrator doctor --config path`: its exit code and report lines."""
    capsys.readouterr()
    code = await asyncio.to_thread(cli_main, ["doctor", "--config", str(path)])
    return code, capsys.readouterr().out.splitlines()


def finding(lines: list[str], check: str) -> tuple[str, str]:
    """The line of `check` ('FAIL discord intents: ...') and its fix line ('' when none)."""
    for index, line in enumerate(lines):
        if line.split(maxsplit=1)[1].startswith(f"{check}:"):
            after = lines[index + 1] if index + 1 < len(lines) else ""
            return line, after.strip() if after.strip().startswith("fix:") else ""
    raise AssertionError(f"no {check!r} finding in:\n" + "\n".join(lines))


async def test_a_healthy_discord_bot_passes_every_check(
    tmp_path: Path, fake: FakeDiscord, llm: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.app_flags = GATEWAY_MESSAGE_CONTENT
    fake.guild_commands[GUILD_ID] = [slash_command("help", GUILD_ID)]
    await add_schedule(tmp_path / "s.json", "aaaaa", f"discord:{REPORTS}")
    code, lines = await doctor(write_config(tmp_path, fake, llm, respond_to="all"), capsys)
    assert code == 0, "\n".join(lines)
    assert finding(lines, "discord")[0] == "OK   discord: logged in as opsbot"
    assert finding(lines, "discord intents")[0].startswith("OK ")
    assert finding(lines, "discord guilds")[0] == "OK   discord guilds: in 1 server(s)"
    assert finding(lines, "discord commands")[0].endswith(f"guild {GUILD_ID}: 1 slash commands")
    paths = [c.path for c in fake.calls]
    assert "/api/v10/users/@me" in paths and f"/api/v10/channels/{REPORTS}" in paths
    assert all(c.headers["Authorization"] == f"Bot {fake.token}" for c in fake.calls)


async def test_the_message_content_intent_off_fails_when_the_bot_reads_everything(
    tmp_path: Path, fake: FakeDiscord, llm: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.app_flags = 0  # switched off in the Developer Portal
    fake.guild_commands[GUILD_ID] = [slash_command("help", GUILD_ID)]
    code, lines = await doctor(write_config(tmp_path, fake, llm, respond_to="all"), capsys)
    line, fix = finding(lines, "discord intents")
    assert code == 2
    assert line.startswith("FAIL") and "cannot read messages (respond_to is all)" in line
    assert fix == (
        "fix: Developer Portal -> Bot -> Privileged Gateway Intents -> Message Content Intent"
    )

    code, lines = await doctor(write_config(tmp_path, fake, llm, respond_to="mentions"), capsys)
    line, fix = finding(lines, "discord intents")
    assert code == 1  # mentions still reach the bot: a warning
    assert line.startswith("WARN") and "except mentions" in line and "Message Content" in fix


async def test_the_limited_intent_flag_counts_as_enabled(
    tmp_path: Path, fake: FakeDiscord, llm: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.guild_commands[GUILD_ID] = [slash_command("help", GUILD_ID)]  # default flags: _LIMITED
    code, lines = await doctor(write_config(tmp_path, fake, llm, respond_to="all"), capsys)
    assert code == 0, "\n".join(lines)
    assert finding(lines, "discord intents")[0] == (
        "OK   discord intents: message content intent enabled"
    )


async def test_slash_commands_not_synced_warn_with_the_fix(
    tmp_path: Path, fake: FakeDiscord, llm: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = await doctor(write_config(tmp_path, fake, llm), capsys)
    line, fix = finding(lines, "discord commands")
    assert code == 1
    assert line == f"WARN discord commands: guild {GUILD_ID}: no slash commands"
    assert fix == "fix: start the bot once to sync"

    code, lines = await doctor(write_config(tmp_path, fake, llm, sync="global"), capsys)
    line, fix = finding(lines, "discord commands")
    assert code == 1 and line == "WARN discord commands: no global slash commands"
    fake.global_commands = [slash_command("help"), slash_command("tools")]
    code, lines = await doctor(write_config(tmp_path, fake, llm, sync="global"), capsys)
    assert code == 0 and finding(lines, "discord commands")[0].endswith("2 global slash commands")


async def test_a_guild_not_joined_and_an_unreachable_schedule_channel_fail(
    tmp_path: Path, fake: FakeDiscord, llm: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.guilds = []
    await add_schedule(tmp_path / "s.json", "bbbbb", "discord:999999999999999999")
    code, lines = await doctor(write_config(tmp_path, fake, llm), capsys)
    assert code == 2
    guilds, invite = finding(lines, "discord guilds")
    assert guilds.startswith("WARN") and "joined no server" in guilds and "OAuth2" in invite
    commands, _ = finding(lines, "discord commands")
    assert commands == f"FAIL discord commands: guild {GUILD_ID} is configured but not joined"
    channel, fix = finding(lines, "discord channel 999999999999999999")
    assert channel.startswith("FAIL") and "NotFound" in channel
    assert "change the schedule's target" in fix


async def test_a_rejected_token_fails_without_showing_it(
    tmp_path: Path, fake: FakeDiscord, llm: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "MTIzNDU2Nzg5.wrong.token-that-was-revoked"
    code, lines = await doctor(write_config(tmp_path, fake, llm, token=wrong), capsys)
    line, fix = finding(lines, "discord")
    assert code == 2
    assert (
        line == "FAIL discord: the bot token was rejected" and fix == "fix: check DISCORD_BOT_TOKEN"
    )
    assert not any("discord intents" in x or "discord guilds" in x for x in lines)
    assert wrong not in "\n".join(lines)
    assert [c.path for c in fake.calls] == ["/api/v10/users/@me"]
