"""`kill -9` of a scheduler process in the middle of a scheduled run: another process takes the
slot over once the lease expires, runs it once, and the result is posted once.

Two real `orchestrator run telegram` processes share the real Redis (schedules, leases, the
per-slot "posted" marker) and post through the fake Bot API; the fake OpenAI server holds the
first run's answer back until the process running it has been killed.
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orchestrator.scheduling.parse import parse_when
from orchestrator.scheduling.redis_store import RedisScheduleStore
from orchestrator.scheduling.store import Schedule
from tests.fakes.openai_server import FakeOpenAI, text
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import eventually
from tests.integration.test_delivery_crash import bot_process

pytestmark = pytest.mark.slow

ANSWER = "Weekly report: 4 invoices paid."
CHAT = 31
MARKER = "Marker check done."


def scheduler_config(
    tmp_path: Path, fake: FakeTelegram, llm_url: str, redis_url: str, prefix: str
) -> Path:
    path = tmp_path / "scheduler.yaml"
    path.write_text(
        "orchestrator:\n"
        "  name: schedbot\n"
        f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
        "  memory_system: {type: none}\n"
        # No MCP servers, so no tools to route: no embedding model to load at each start.
        "  tool_routing: {strategy: all}\n"
        "scheduler: {enabled: true, store: redis, tick_seconds: 0.2, lease_seconds: 5}\n"
        f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: '{prefix}'}}\n"
        "bots:\n"
        f"  telegram: {{token: '{fake.token}', base_url: '{fake.base_url}'}}\n"
    )
    return path


async def due_schedule(
    redis_url: str, prefix: str, schedule_id: str = "wkrpt", what: str = "weekly report"
) -> None:
    """A weekly report whose slot is due now, as `/schedule` would have stored it."""
    now = datetime.now(UTC)
    store = RedisScheduleStore.from_url(redis_url, prefix)
    schedule = Schedule(
        id=schedule_id,
        platform="telegram",
        chat_id=str(CHAT),
        creator_id=str(CHAT),
        creator_name="Ann",
        when_text="every monday at 9",
        when=parse_when("every monday at 9", ZoneInfo("UTC"), now),
        what=what,
        timezone="UTC",
        next_run_at=now - timedelta(seconds=1),
    )
    await store.add(schedule, max_per_chat=20)
    await store.close()


def reports(fake: FakeTelegram) -> list[dict[str, Any]]:
    return [p for p in fake.sent() if ANSWER in str(p.get("text"))]


def headers(fake: FakeTelegram) -> list[dict[str, Any]]:
    return [p for p in fake.sent() if str(p.get("text", "")).startswith("Scheduled wkrpt")]


async def test_a_scheduler_killed_mid_run_has_its_slot_run_and_posted_once_elsewhere(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: object
) -> None:
    release = threading.Event()

    def slow(body: dict[str, Any]) -> dict[str, Any]:
        release.wait(60)  # process A is killed while its run waits here
        return text("too late")

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        return text(MARKER if "marker" in json.dumps(body["messages"][-1]) else ANSWER)

    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with FakeOpenAI([slow], default=answer) as llm:
        async with FakeTelegram() as fake:
            config = scheduler_config(tmp_path, fake, llm.base_url, redis_url, key_prefix)
            await due_schedule(redis_url, key_prefix)
            try:
                # Both start at once (one start's wait, not two): whichever claims the slot is A,
                # the one killed mid-run; the other is B, which must leave A's live lease alone.
                async with bot_process(config, logs[0]) as one, bot_process(config, logs[1]) as two:
                    running = await eventually(lambda: len(llm.requests) == 1, 60)
                    assert running, logs[0].read_text()[-3000:] + logs[1].read_text()[-3000:]
                    fired = await eventually(lambda: any(_fired(log) for log in logs), 10)
                    assert fired
                    (a, a_log), (b, b_log) = sorted(
                        [(one, logs[0]), (two, logs[1])], key=lambda p: not _fired(p[1])
                    )
                    up = await eventually(lambda: "scheduler_started" in b_log.read_text(), 60)
                    assert up, b_log.read_text()[-3000:]
                    assert await eventually(lambda: "telegram_ready" in b_log.read_text())
                    assert not reports(fake)  # B leaves A's live lease alone
                    a.send_signal(signal.SIGKILL)
                    a.wait(10)
                    posted = await eventually(lambda: bool(reports(fake)), 30)
                    assert posted, b_log.read_text()[-3000:]
                    await eventually(lambda: len(fake.sent()) >= 3, 5)
                    assert b.poll() is None
                    # B keeps ticking: a schedule due later runs and posts, and the
                    # finished slot did not run or post again before it.
                    await due_schedule(redis_url, key_prefix, "marker", "marker check")
                    marked = await eventually(lambda: MARKER in str(fake.sent()), 30)
                    assert marked, b_log.read_text()[-3000:]
            finally:
                release.set()
    weekly = [r for r in llm.requests if "marker" not in json.dumps(r["body"]["messages"][-1])]
    assert len(weekly) == 2  # A's cut-off run, then B's take-over: nothing more
    assert len(reports(fake)) == 1
    assert len(headers(fake)) == 1
    assert all(p["chat_id"] == CHAT for p in reports(fake))
    assert "too late" not in str(fake.sent())
    assert "schedule_fire id=wkrpt" in a_log.read_text()
    assert "schedule_taken_over id=wkrpt" in b_log.read_text()
    assert "schedule_ran id=wkrpt" in b_log.read_text()


def _fired(log: Path) -> bool:
    return log.exists() and "schedule_fire id=wkrpt" in log.read_text()
