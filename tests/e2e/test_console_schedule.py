"""`/schedule every monday at 9am check the weather` typed in the console posts a run there."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from bots.console import ConsoleAdapter
from orchestrator.app import build_orchestrator
from orchestrator.clock import FakeClock
from orchestrator.config import parse_config
from tests.conftest import time_server_yaml
from tests.fakes.openai_server import FakeOpenAI, text


async def test_console_schedule_fires_on_monday_and_posts_into_the_chat(tmp_path: Path) -> None:
    # Sunday 2026-11-29 12:00 UTC; Europe/London is on GMT then.
    clock = FakeClock(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    with FakeOpenAI(default=text("Sunny, 14°C.")) as llm:
        config = parse_config(
            f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
            f"  memory_system: {{type: none}}\n"
            f"mcp_servers:\n{time_server_yaml()}"
            f"scheduler:\n  path: {tmp_path / 's.json'}\n  default_timezone: Europe/London\n",
            env={},
        )
        bot = build_orchestrator(config, clock=clock)
        out = io.StringIO()
        console = ConsoleAdapter(bot, out=out, user_id="ann")
        await bot.start()
        try:
            await console.run(
                io.StringIO("/schedule every monday at 9am check the weather\n/schedules\n")
            )
            created = out.getvalue()
            assert bot.scheduler is not None
            assert await bot.scheduler.tick() == 0  # not due yet
            clock.set(datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC))
            assert await bot.scheduler.tick() == 1
            await bot.scheduler.drain()
        finally:
            await bot.stop()
    assert "every Monday at 09:00" in created
    posted = out.getvalue()[len(created) :]
    assert "check the weather" in posted and "Sunny, 14°C." in posted
    user_turn = llm.requests[-1]["body"]["messages"][-1]
    assert user_turn["role"] == "user" and user_turn["content"].endswith("check the weather")


async def test_a_chats_configured_schedule_target_receives_its_runs(tmp_path: Path) -> None:
    from orchestrator.messages import ChatMessage
    from tests.recording_adapter import RecordingAdapter

    clock = FakeClock(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    with FakeOpenAI(default=text("Stats are up.")) as llm:
        config = parse_config(
            f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
            "  memory_system: {type: none}\n"
            f"scheduler:\n  path: {tmp_path / 's.json'}\n"
            "chats:\n  'discord:555': {schedule_target: 'telegram:-100'}\n",
            env={},
        )
        bot = build_orchestrator(config, clock=clock)
        telegram = RecordingAdapter("telegram")
        bot.attach(telegram)
        await bot.start()
        try:
            created = await bot.handle(
                ChatMessage("discord", "555", "7", "/schedule daily at 9 post the stats")
            )
            clock.set(datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC))
            assert await bot.scheduler.tick() == 1
            await bot.scheduler.drain()
        finally:
            await bot.stop()
    assert "in telegram:-100" in created[0].text, created[0].text
    assert any("Stats are up." in t for t in telegram.texts("-100"))


async def test_without_a_model_free_text_is_refused_and_an_old_one_records_a_failed_run(
    tmp_path: Path,
) -> None:
    from tests.helpers import add_schedule

    schedules = tmp_path / "s.json"
    await add_schedule(schedules, "olddd", "console:team")  # "post the stats", made earlier
    clock = FakeClock(datetime(2030, 1, 1, 8, 0, tzinfo=UTC))
    config = parse_config(
        "orchestrator:\n  memory_system: {type: none}\n"
        f"mcp_servers:\n{time_server_yaml()}scheduler:\n  path: {schedules}\n",
        env={},
    )
    bot = build_orchestrator(config, clock=clock)
    out = io.StringIO()
    console = ConsoleAdapter(bot, out=out, user_id="ann")
    await bot.start()
    try:
        await console.run(io.StringIO("/schedule every monday at 9am check the weather\n"))
        refused = out.getvalue()
        command = '/run time get_current_time {"timezone": "UTC"}'
        await console.run(io.StringIO(f"/schedule every monday at 9am {command}\n"))
        accepted = out.getvalue()[len(refused) :]
        assert bot.scheduler is not None
        clock.set(datetime(2030, 1, 1, 9, 0, 5, tzinfo=UTC))
        assert await bot.scheduler.tick() == 1
        await bot.scheduler.drain()
        runs = await bot.scheduler.store.runs("olddd")
    finally:
        await bot.stop()
    assert "No language model is configured" in refused
    assert accepted.startswith("Scheduled ") or "Scheduled " in accepted, accepted
    assert runs and runs[0].outcome == "failed", runs
    assert "no language model is configured" in runs[0].error
