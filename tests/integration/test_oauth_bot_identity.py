"""`identity: bot`: an admin signs the server in once on the host (`orchestrator mcp login`),
then the bot's one session uses that sign-in for everyone (issue 32)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from orchestrator.admin.doctor.base import Level
from orchestrator.admin.doctor.oauth import check_oauth
from orchestrator.app import build_services
from orchestrator.audit import bind_requester
from orchestrator.cli import main
from orchestrator.cli.doctor import run_doctor
from orchestrator.config import load_config
from scripts.with_redis import free_port
from tests.helpers import eventually
from tests.oauth_kit import KEY, follow, oauth_stand

LINK = re.compile(r"https?://\S+/authorize\?\S+")


def write_config(tmp_path: Path, mcp_url: str, identity: str = "bot") -> Path:
    path = tmp_path / "orchestrator.yaml"
    path.write_text(
        f"""
orchestrator: {{memory_system: {{type: none}}}}
scheduler: {{enabled: false, path: '{tmp_path}/schedules.json'}}
http: {{port: {free_port()}}}
mcp_servers:
  notes:
    type: http
    url: {mcp_url}
    startup_timeout_seconds: 10
    auth: {{type: oauth, identity: {identity}, sign_in_timeout_seconds: 30}}
"""
    )
    return path


async def test_an_admin_signs_the_bot_in_on_the_host_and_the_bot_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_TOKEN_KEY", KEY)
    async with oauth_stand() as stand:
        path = write_config(tmp_path, stand.mcp_url)
        login = asyncio.create_task(
            asyncio.to_thread(main, ["mcp", "login", "notes", "-c", str(path)])
        )
        printed: list[str] = []

        def link_printed() -> bool:
            printed.append(capsys.readouterr().out)
            return bool(LINK.search("".join(printed)))

        assert await eventually(link_printed)
        link = LINK.search("".join(printed))
        assert link is not None
        assert (await follow(link.group(0), "ops-bot")).status_code == 200
        assert await asyncio.wait_for(login, 30) == 0
        assert "Signed in: notes has 1 tools" in capsys.readouterr().out
        # The bot, started afterwards, acts as the bot's sign-in for whoever asks.
        services = build_services(load_config(path))
        await services.hub.start()
        try:
            assert [s.state for s in services.hub.status()] == ["up"]
            bind_requester("telegram", "-100", "5")
            result = await services.hub.call("notes", "my_notes", {})
            assert result.text == "notes of ops-bot: buy milk (ops-bot)"
            assert services.oauth is not None
            assert await services.oauth.state("notes", "bot") == "signed in"
            findings = await check_oauth(load_config(path))
            assert [(f.level, f.detail) for f in findings] == [
                (Level.OK, "notes: as the bot, signed in")
            ]
        finally:
            await services.hub.stop()
            await services.oauth.close() if services.oauth else None


async def test_a_bot_server_nobody_signed_in_is_down_saying_how_to_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_TOKEN_KEY", KEY)
    async with oauth_stand() as stand:
        services = build_services(load_config(write_config(tmp_path, stand.mcp_url)))
        await services.hub.start()
        try:
            status = services.hub.status()[0]
            assert status.state == "down"
            assert "orchestrator mcp login notes" in status.last_error
            findings = [f for f in await run_doctor(str(tmp_path / "orchestrator.yaml"))]
            oauth = [f for f in findings if f.check == "oauth"]
            assert [(f.level, f.detail) for f in oauth] == [
                (Level.FAIL, "notes: as the bot, needs sign-in")
            ]
            assert oauth[0].fix == "stop the bot and run: orchestrator mcp login notes"
        finally:
            await services.hub.stop()


async def test_without_a_token_key_oauth_servers_stay_down_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORCHESTRATOR_TOKEN_KEY", raising=False)
    services = build_services(load_config(write_config(tmp_path, "http://127.0.0.1:9/mcp")))
    await services.hub.start()
    status = services.hub.status()[0]
    assert status.state == "down"
    assert "need an encryption key for their tokens in $ORCHESTRATOR_TOKEN_KEY" in status.last_error
    args = ["mcp", "login", "notes", "-c", str(tmp_path / "orchestrator.yaml")]
    assert await asyncio.to_thread(main, args) == 2
    findings = await check_oauth(load_config(tmp_path / "orchestrator.yaml"))
    assert findings[0].level == Level.FAIL and "$ORCHESTRATOR_TOKEN_KEY" in findings[0].detail
