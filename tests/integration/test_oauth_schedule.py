"""A scheduled run uses its creator's sign-in, asked for at creation (issue 32): through the real
Telegram bot (python-telegram-bot against the fake Bot API), a `/schedule ... /run notes
my_notes` by someone not signed in sends them the link by private message at once; after they
follow it, the run (fired with a FakeClock) reads their notes; someone signed in gets no link."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.app import build_orchestrator
from orchestrator.clock import FakeClock
from orchestrator.config import parse_config
from scripts.with_redis import free_port
from tests.fakes.openai_server import FakeOpenAI, Step, text, tool_call
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import eventually, running_bot
from tests.integration.test_oauth_telegram import LINK, config_yaml, hub_up, texts
from tests.oauth_kit import KEY, follow, oauth_stand

SCHEDULE = f"/schedule@{BOT_USERNAME} every day at 9am /run notes my_notes"
CAROL = {"chat_id": 3, "chat_type": "private", "user_id": 3}


def buttons(payload: dict[str, Any]) -> list[dict[str, str]]:
    markup = payload.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def relay_the_sign_in_line(body: dict[str, Any]) -> dict[str, Any]:
    """The scripted model reads schedule_create's result: the sign-in line is in it."""
    result = str(body["messages"][-1]["content"])
    assert "Runs use notes as you: I sent you a sign-in link" in result, result
    return text("Scheduled; check your private messages to sign in to notes.")


async def test_a_schedule_asks_its_creator_to_sign_in_at_creation_and_runs_as_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_TOKEN_KEY", KEY)
    clock = FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    async with oauth_stand() as stand:
        yaml = config_yaml(tmp_path, stand.mcp_url, free_port()).replace(
            "scheduler: {enabled: false,", "scheduler: {default_timezone: UTC,"
        )
        orchestrator = build_orchestrator(parse_config(yaml, env={}), clock)
        gate, scheduler = orchestrator.services.oauth, orchestrator.scheduler
        assert gate is not None and scheduler is not None
        async with FakeTelegram() as fake, running_bot(fake, orchestrator):
            # Alice, never signed in, schedules in the group: the link comes privately now.
            fake.message_update(SCHEDULE, user_id=1)
            assert await eventually(lambda: bool(texts(fake, -100, "Runs use notes as you")))
            created = texts(fake, -100, "Runs use notes as you")[-1]
            assert "I sent you a sign-in link by private message" in created
            assert await eventually(lambda: bool(texts(fake, 1, "Sign in to notes")))
            link = LINK.search(texts(fake, 1, "Sign in to notes")[-1])
            assert link is not None
            assert not LINK.search(" ".join(texts(fake, -100)))  # never in the group
            assert (await follow(link.group(0), "alice")).status_code == 200
            assert await eventually(lambda: hub_up(orchestrator))
            assert await gate.state("notes", "telegram:1") == "signed in"

            # Its run, fired by the clock, is Alice's: her token, her notes.
            clock.set(datetime(2026, 3, 3, 9, 0, 10, tzinfo=UTC))
            assert await scheduler.tick() == 1
            assert await eventually(lambda: bool(texts(fake, -100, "notes of alice")))

            # Signed in already: the schedule is made and nothing is sent.
            private_before = len(texts(fake, 1))
            fake.message_update(SCHEDULE.replace("9am", "10am"), user_id=1)
            assert await eventually(lambda: len(texts(fake, -100, "Next run:")) == 2)
            assert "Runs use" not in texts(fake, -100, "Next run:")[-1]
            assert len(await scheduler.store.all()) == 2
            assert len(texts(fake, 1)) == private_before
            assert await gate.signins.waiting("notes") == []  # no sign-in under way


async def test_a_schedule_the_model_creates_asks_the_sign_in_once_confirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTRATOR_TOKEN_KEY", KEY)
    clock = FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    script: list[Step] = [
        tool_call("schedule_create", {"when": "every day at 9am", "what": "/run notes my_notes"}),
        relay_the_sign_in_line,
    ]
    async with oauth_stand() as stand:
        with FakeOpenAI(script) as llm:
            model = f"llm_settings: {{base_url: '{llm.base_url}', api_key: k, max_retries: 0}}, "
            yaml = (
                config_yaml(tmp_path, stand.mcp_url, free_port())
                .replace("scheduler: {enabled: false,", "scheduler: {default_timezone: UTC,")
                .replace("orchestrator: {", "orchestrator: {" + model)
            )
            orchestrator = build_orchestrator(parse_config(yaml, env={}), clock)
            assert orchestrator.scheduler is not None
            async with FakeTelegram() as fake, running_bot(fake, orchestrator):
                fake.message_update("show me my notes every morning at 9", **CAROL)
                assert await eventually(lambda: any(buttons(p) for p in fake.sent()))
                question = next(p for p in fake.sent() if buttons(p))
                assert "Create a schedule" in question["text"], question["text"]
                assert texts(fake, 3, "Sign in to notes") == []  # nothing before the button
                run_all = next(b for b in buttons(question) if b["text"] == "Run all")
                fake.callback_update(
                    run_all["callback_data"],
                    message_id=fake.message_id_of("Create a schedule"),
                    chat_id=3,
                    user_id=3,
                )
                assert await eventually(lambda: bool(texts(fake, 3, "Sign in to notes")))
                assert await eventually(lambda: bool(texts(fake, 3, "check your private")))
                assert len(await orchestrator.scheduler.store.all()) == 1
