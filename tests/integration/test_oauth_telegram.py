"""OAuth sign-in per person through the real Telegram bot (python-telegram-bot against the fake
Bot API): the link goes by private message, the group is told briefly, the person's browser
lands on the bot's own `/oauth/callback`, and the waiting request resumes (issue 32)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.admin.audit_sink import audit_trail
from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from scripts.with_redis import free_port
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import eventually, running_bot
from tests.oauth_kit import KEY, follow, oauth_stand

LINK = re.compile(r"https?://\S+/authorize\?\S+")


def texts(fake: FakeTelegram, chat_id: int, contains: str = "") -> list[str]:
    return [
        str(p.get("text", ""))
        for p in fake.sent()
        if p.get("chat_id") == chat_id and contains in str(p.get("text", ""))
    ]


def hub_up(orchestrator: Any) -> bool:
    return any(s.state == "up" for s in orchestrator.services.hub.status())


def config_yaml(tmp_path: Path, mcp_url: str, port: int) -> str:
    return f"""
orchestrator: {{memory_system: {{type: none}}}}
scheduler: {{enabled: false, path: '{tmp_path}/schedules.json'}}
audit: {{path: '{tmp_path}/audit.jsonl'}}
admins: ["telegram:1"]
http: {{port: {port}}}
mcp_servers:
  notes:
    type: http
    url: {mcp_url}
    timeout_seconds: 10
    startup_timeout_seconds: 10
    auth: {{type: oauth, identity: person, sign_in_timeout_seconds: 30}}
"""


async def test_people_sign_in_by_private_message_and_each_get_their_own_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ORCHESTRATOR_TOKEN_KEY", KEY)
    async with oauth_stand() as stand:
        config = parse_config(config_yaml(tmp_path, stand.mcp_url, free_port()), env={})
        orchestrator = build_orchestrator(config)
        gate = orchestrator.services.oauth
        assert gate is not None and config.http is not None
        # The callback is served by the bot's own HTTP server (the `http:` section).
        with audit_trail(config):
            async with FakeTelegram() as fake, running_bot(fake, orchestrator):
                fake.message_update(f"/run@{BOT_USERNAME} notes my_notes", user_id=1)
                assert await eventually(lambda: bool(texts(fake, -100, "See /login notes")))
                # The first person signs in with /login (nobody knows the tools before), the
                # second simply asks: their request waits for their sign-in, then goes on.
                for user, name, ask in ((1, "alice", "/login"), (2, "bob", "/run")):
                    command = "login notes" if ask == "/login" else "run notes my_notes"
                    fake.message_update(
                        f"/{command.split()[0]}@{BOT_USERNAME} " + " ".join(command.split()[1:]),
                        user_id=user,
                    )
                    assert await eventually(lambda u=user: bool(texts(fake, u, "Sign in")))
                    private = texts(fake, user, "Sign in to notes")[-1]
                    link = LINK.search(private)
                    assert link is not None, private
                    assert not LINK.search(" ".join(texts(fake, -100)))  # never in the group
                    if ask == "/run":  # /login answered in the group already
                        assert await eventually(
                            lambda: bool(texts(fake, -100, "I sent you a private message"))
                        )
                    page = await follow(link.group(0), name)
                    assert page.status_code == 200, page.text
                    if ask == "/run":
                        assert await eventually(
                            lambda n=name: bool(texts(fake, -100, f"notes of {n}"))
                        )
                    else:
                        assert await eventually(lambda: bool(gate and hub_up(orchestrator)))
                fake.message_update(f"/run@{BOT_USERNAME} notes my_notes", user_id=1)
                assert await eventually(lambda: bool(texts(fake, -100, "notes of alice")))
                fake.message_update(f"/logins@{BOT_USERNAME}", user_id=1)
                assert await eventually(lambda: bool(texts(fake, -100, "Sign-ins:")))
                assert "notes (as you): signed in" in texts(fake, -100, "Sign-ins:")[-1]
                fake.message_update(f"/status@{BOT_USERNAME}", user_id=1)
                assert await eventually(lambda: bool(texts(fake, -100, "as each person")))
                assert "notes: as each person, 2 signed in" in texts(fake, -100, "Servers:")[-1]
                fake.message_update(f"/config@{BOT_USERNAME}", user_id=1)
                assert await eventually(lambda: bool(texts(fake, -100, "mcp_servers")))
                fake.message_update(f"/logout@{BOT_USERNAME} notes", user_id=1)
                assert await eventually(lambda: bool(texts(fake, -100, "Signed out of notes.")))
                assert await gate.state("notes", "telegram:1") == "needs sign-in"
                assert await gate.state("notes", "telegram:2") == "signed in"
                everything_sent = json.dumps(fake.sent())
                async with httpx.AsyncClient() as client:  # the bot's own /metrics
                    metrics_page = (await client.get(f"{orchestrator.web.base_url}/metrics")).text
                assert "orchestrator_tool_calls" in metrics_page
        audit = (tmp_path / "audit.jsonl").read_text()
        assert "notes/my_notes" in audit  # the calls were audited, without any token
        tokens = stand.auth_server.all_tokens()
        assert tokens
        for text in (everything_sent, caplog.text, audit, metrics_page):
            assert not [t for t in tokens if t in text]


async def test_a_private_message_the_platform_refuses_ends_the_request_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_TOKEN_KEY", KEY)
    async with oauth_stand() as stand:
        config = parse_config(config_yaml(tmp_path, stand.mcp_url, free_port()), env={})
        orchestrator = build_orchestrator(config)
        gate = orchestrator.services.oauth
        assert gate is not None and config.http is not None
        # The callback is served by the bot's own HTTP server (the `http:` section).
        async with FakeTelegram() as fake, running_bot(fake, orchestrator):
            # Someone signed in before: the tools are known.
            fake.message_update(f"/login@{BOT_USERNAME} notes", user_id=1)
            assert await eventually(lambda: bool(texts(fake, 1, "Sign in to notes")))
            link = LINK.search(texts(fake, 1, "Sign in to notes")[-1])
            assert link is not None
            assert (await follow(link.group(0), "alice")).status_code == 200
            assert await eventually(lambda: hub_up(orchestrator))
            # Bob never opened a private chat with the bot: Telegram refuses the message.
            fake.fail_next("sendMessage", 403, "Forbidden: bot can't initiate conversation")
            fake.message_update(f"/run@{BOT_USERNAME} notes my_notes", user_id=2)
            assert await eventually(lambda: bool(texts(fake, -100, "notes/my_notes failed")))
            assert texts(fake, -100, "I could not send you a private message to sign in")
            assert "open a private chat with the bot and send /login notes" in " ".join(
                texts(fake, -100, "notes/my_notes failed")
            )
            assert await gate.signins.waiting("notes") == []  # nothing left waiting
