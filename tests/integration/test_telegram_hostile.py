"""Hostile input through the real python-telegram-bot against the fake Bot API: a poisoned page
that makes the model schedule a write, an edited `/run`, and one member flooding a group.

The probe server (tests/servers/probe.py) has a read tool whose page carries a planted
instruction and a destructive write tool that logs each run to a file.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.clock import FakeClock
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from tests.fakes.openai_server import FakeOpenAI, Step, text, tool_call
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import eventually, running_bot
from tests.servers import probe

PLANTED_WHAT = probe.PLANTED_WHAT

PRIVATE = {"chat_id": 77, "chat_type": "private", "user_id": 77}


def probe_bot(
    log: Path,
    llm_url: str | None = None,
    *,
    store: Path | None = None,
    clock: FakeClock | None = None,
    per_minute: int = 20,
) -> Orchestrator:
    llm = f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
    scheduler = (
        f"scheduler: {{path: '{store}', default_timezone: UTC}}\n"
        if store
        else "scheduler: {enabled: false}\n"
    )
    yaml = (
        f"orchestrator:\n{llm if llm_url else ''}  memory_system: {{type: none}}\n"
        f"{scheduler}"
        f"limits: {{messages_per_minute_per_user: {per_minute}}}\n"
        f"mcp_servers:\n  probe:\n    command: {sys.executable}\n"
        f"    args: ['{probe.__file__}', '{log}']\n"
    )
    return build_orchestrator(parse_config(yaml, env={}), clock)


def deletions(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if line.startswith("deleted")]


def texts(fake: FakeTelegram) -> list[str]:
    return [str(p.get("text", "")) for p in fake.sent()]


def answers(fake: FakeTelegram, answer: str) -> int:
    """Answers sent, or edited into a "Working on it" notice."""
    edits = [str(p.get("text", "")) for p in fake.sent("editMessageText")]
    return sum(t == answer for t in texts(fake) + edits)


def buttons(payload: dict[str, Any]) -> list[dict[str, str]]:
    markup = payload.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def obey_the_page(body: dict[str, Any]) -> dict[str, Any]:
    """The scripted model does what the tool result says: it schedules the planted /run."""
    page = body["messages"][-1]["content"]
    assert PLANTED_WHAT in page
    return tool_call("schedule_create", {"when": "every day at 9am", "what": PLANTED_WHAT})


async def test_an_injected_schedule_asks_its_creator_and_its_run_deletes_nothing_unapproved(
    tmp_path: Path,
) -> None:
    log, store = tmp_path / "probe.log", tmp_path / "schedules.json"
    clock = FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    script: list[Step] = [
        tool_call("probe__read_page", {"url": "https://example.com/notes"}),
        obey_the_page,
        text("I read the notes."),  # the answer once the person pressed Run all
    ]
    with FakeOpenAI(script) as llm:
        bot = probe_bot(log, llm.base_url, store=store, clock=clock)
        async with FakeTelegram() as fake, running_bot(fake, bot):
            assert bot.scheduler is not None
            fake.message_update("summarise https://example.com/notes", **PRIVATE)
            assert await eventually(lambda: any(buttons(p) for p in fake.sent()))
            question = next(p for p in fake.sent() if buttons(p))
            # The schedule does not exist yet; the question names its write tool.
            assert await bot.scheduler.store.all() == []
            assert "Create a schedule" in question["text"], question["text"]
            assert "probe/delete_records" in question["text"]
            run_all = next(b for b in buttons(question) if b["text"] == "Run all")
            fake.callback_update(
                run_all["callback_data"],
                message_id=fake.message_id_of("Create a schedule"),
                chat_id=77,
                user_id=77,
            )
            assert await eventually(lambda: any("I read the notes." in t for t in texts(fake)))
            [schedule] = await bot.scheduler.store.all()
            assert schedule.what == PLANTED_WHAT and schedule.creator_id == "77"
            assert schedule.approved_tools == ()

            # Its run sends the /run as a schedule's text: refused, the creator told how.
            clock.set(datetime(2026, 3, 3, 9, 0, 10, tzinfo=UTC))
            assert await bot.scheduler.tick() == 1
            assert await eventually(lambda: any("failed" in t for t in texts(fake)))
            assert deletions(log) == []
            failed = next(t for t in texts(fake) if "failed" in t)
            assert schedule.id in failed and "/approve" in failed, failed

            # The creator approves the write for this schedule: the next run may delete.
            fake.message_update(f"/approve {schedule.id} probe/delete_records", **PRIVATE)
            assert await eventually(lambda: any("Approved for every run" in t for t in texts(fake)))
            clock.set(datetime(2026, 3, 4, 9, 0, 10, tzinfo=UTC))
            assert await bot.scheduler.tick() == 1
    assert deletions(log) == ["deleted customers"]


async def test_a_scheduled_run_cannot_approve_what_waits_for_a_person(tmp_path: Path) -> None:
    """A schedule's text that is itself an approval (/approve, /confirm) is refused."""
    log, store = tmp_path / "probe.log", tmp_path / "schedules.json"
    clock = FakeClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    bot = probe_bot(log, store=store, clock=clock)
    async with FakeTelegram() as fake, running_bot(fake, bot):
        assert bot.scheduler is not None
        fake.message_update(f"/schedule every day at 9am {PLANTED_WHAT}", **PRIVATE)
        assert await eventually(lambda: any(buttons(p) for p in fake.sent()))
        [target] = await bot.scheduler.store.all()
        offer = next(p for p in fake.sent() if buttons(p))  # /schedule offers the approval
        assert "probe/delete_records" in offer["text"]
        fake.message_update(
            f"/schedule every day at 8am /approve {target.id} probe/delete_records", **PRIVATE
        )
        assert await eventually(lambda: sum("Scheduled " in t for t in texts(fake)) == 2)
        clock.set(datetime(2026, 3, 3, 8, 0, 10, tzinfo=UTC))
        assert await bot.scheduler.tick() == 1
        assert await eventually(lambda: any("needs a person" in t for t in texts(fake)))
        clock.set(datetime(2026, 3, 3, 9, 0, 10, tzinfo=UTC))
        assert await bot.scheduler.tick() == 1
        assert await eventually(lambda: any("/approve <schedule id>" in t for t in texts(fake)))
    assert deletions(log) == []


async def test_an_edited_run_command_runs_once(tmp_path: Path) -> None:
    log = tmp_path / "probe.log"
    async with FakeTelegram() as fake, running_bot(fake, probe_bot(log)):
        sent = fake.message_update('/run probe delete_records {"table": "orders"}', **PRIVATE)
        assert await eventually(lambda: any("deleted every row" in t for t in texts(fake)))
        assert await eventually(lambda: any(u["update_id"] == sent for u in fake.delivered))
        fake.edited_update(sent, '/run probe delete_records {"table": "orders"} ')
        # A later message of the same person is answered after the edit was dealt with.
        fake.message_update("/status", **PRIVATE)
        assert await eventually(lambda: any("Servers:" in t for t in texts(fake)))
    assert deletions(log) == ["deleted orders"]
    assert sum("deleted every row" in t for t in texts(fake)) == 1


async def test_a_group_flood_from_one_member_gets_one_notice_and_is_not_all_queued(
    tmp_path: Path,
) -> None:
    release = threading.Event()

    def held(body: dict[str, Any]) -> dict[str, Any]:
        release.wait(30)  # the model is busy until the test lets it go
        return text("answer")

    flood, limit = 30, 5
    with FakeOpenAI(default=held) as llm:
        bot = probe_bot(tmp_path / "probe.log", llm.base_url, per_minute=limit)
        async with FakeTelegram() as fake, running_bot(fake, bot):
            try:
                await flood_the_group(fake, flood, limit)
            finally:
                release.set()
            assert await eventually(lambda: answers(fake, "answer") == limit + 1)
            assert await eventually(lambda: not fake.updates)
    assert sum("too fast" in t for t in texts(fake)) == 1
    assert len(llm.requests) == limit + 1


async def flood_the_group(fake: FakeTelegram, flood: int, limit: int) -> None:
    """Member 5 sends `flood` messages while the model is busy; member 6 asks once."""
    for i in range(flood):
        fake.message_update(f"@{BOT_USERNAME} question {i}", user_id=5)
    # The notice comes while the first answers still wait for the model: the flood was
    # refused as it arrived, not queued behind them.
    assert await eventually(lambda: any("too fast" in t for t in texts(fake)))
    assert answers(fake, "answer") == 0
    fake.message_update(f"@{BOT_USERNAME} and me?", user_id=6)  # another member
