"""The admin console in real Chromium, against a running bot: the real python-telegram-bot
adapter on a fake Bot API, Redis sessions and audit stream, our ClickUp MCP server on a fake
ClickUp, the `mcp-server-time` server, the scripted fake model, schedules on a FakeClock.

One browser and one bot for the module; each page is captured (`make screenshots` keeps them
under bench/results/dashboard/).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from orchestrator.admin.audit_sink import audit_trail
from orchestrator.app import build_orchestrator
from orchestrator.clock import FakeClock
from orchestrator.config import load_config
from orchestrator.core import Orchestrator
from orchestrator.messages import Reply
from orchestrator.queue.job import replies_to_json
from orchestrator.scheduling.engine import Scheduler
from orchestrator.scheduling.store import Schedule
from orchestrator.scheduling.when import when_from_dict
from tests.browser.chromium import Browser, require_chromium
from tests.conftest import SESSION_PREFIXES, time_server_yaml
from tests.fakes.clickup_api import FakeClickUp
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.helpers import clickup_server_yaml, eventually, running_bot

# Each page is captured; `make screenshots` keeps them in bench/results/dashboard (committed), a
# plain test run writes them to a temporary folder so running the tests changes no tracked file.
SHOTS = Path(
    os.environ.get("DASHBOARD_SCREENSHOTS")
    or tempfile.mkdtemp(prefix="dashboard-shots-")
)
ADMIN, VIEWER, MEMBER = 42, 43, 7
LLM_KEY = "sk-browser-secret-5a4b3c2d1e"
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday, before both schedules' 09:00
WRITES = "    write_tools: [create_task]\n"
RUN_TIME = '/run time get_current_time {"timezone": "UTC"}'


@dataclass
class World:
    bot: Orchestrator
    scheduler: Scheduler
    clock: FakeClock
    telegram: FakeTelegram
    clickup: FakeClickUp
    browser: Browser
    config_path: Path
    redis: aioredis.Redis
    prefix: str
    config_text: Callable[[int], str]  # the config file with this rate limit

    @property
    def base(self) -> str:
        return str(self.bot.web.base_url)

    async def page(self, path: str) -> str:
        await self.browser.get(f"{self.base}/dashboard{path}")
        return await self.browser.text()

    async def shot(self, name: str) -> None:
        await self.browser.screenshot(SHOTS / f"{name}.png")


def config_yaml(
    llm_url: str,
    clickup_url: str,
    telegram: FakeTelegram,
    tmp: Path,
    redis_url: str,
    prefix: str,
    rate: int = 20,
) -> str:
    return f"""
orchestrator:
  llm_settings: {{base_url: "{llm_url}", api_key: {LLM_KEY}, model: test-model, max_retries: 0}}
  memory_system: {{type: none}}
bots:
  telegram: {{token: "{telegram.token}", base_url: "{telegram.base_url}"}}
sessions: {{backend: redis, url: "{redis_url}", key_prefix: {prefix}}}
scheduler: {{path: "{tmp / "schedules.json"}"}}
admins: ["telegram:{ADMIN}"]
dashboard: {{viewers: ["telegram:{VIEWER}"], prices: {{test-model: 2.5}}}}
http: {{port: 0}}
limits: {{messages_per_minute_per_user: {rate}}}
mcp_servers:
{clickup_server_yaml(clickup_url, WRITES)}{time_server_yaml()}"""


def model(body: dict[str, Any]) -> dict[str, Any]:
    """The fake model by request, not by order (the doctor's probe may ask at any time): the
    weekly-report request loads ClickUp's create_task, calls it, then answers."""
    messages = body.get("messages", [])
    if not any("weekly report" in str(m.get("content")) for m in messages if m["role"] == "user"):
        return text("ok")
    results = sum(m["role"] == "tool" for m in messages)
    if results == 0:
        return tool_call("search_tools", {"names": ["clickup__create_task"]})
    if results == 1:
        return tool_call("clickup__create_task", {"list_id": "7001", "name": "Weekly report"})
    return text("Filed the weekly report in ClickUp.")


def schedule(sid: str, what: str, creator: str) -> Schedule:
    return Schedule(
        id=sid,
        platform="telegram",
        chat_id="-100",
        creator_id=str(MEMBER),
        creator_name=creator,
        when_text="every day at 9",
        when=when_from_dict({"kind": "cron", "expr": "0 9 * * *", "tz": "Europe/London"}),
        what=what,
        timezone="Europe/London",
        next_run_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    )


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 15) -> bool:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


def sent_texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [str(p.get("text", "")) for p in fake.sent() if p.get("chat_id") == chat_id]


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[World]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("dashboard")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    SESSION_PREFIXES.append(prefix)
    browser = await asyncio.to_thread(Browser)
    redis = aioredis.Redis.from_url(redis_url)
    async with FakeTelegram() as telegram:
        with FakeClickUp() as clickup, FakeOpenAI(default=model) as llm:
            os.environ["CLICKUP_API_TOKEN"] = clickup.token
            path = tmp / "orchestrator.yaml"
            make = lambda rate: config_yaml(  # noqa: E731
                llm.base_url, clickup.url, telegram, tmp, redis_url, prefix, rate
            )
            path.write_text(make(20))
            config = load_config(path)
            clock = FakeClock(START)
            bot = build_orchestrator(config, clock)
            scheduler = bot.scheduler
            assert isinstance(scheduler, Scheduler)
            bot.scheduler = None  # the test ticks the scheduler itself (no background loop)
            try:
                with audit_trail(config):
                    async with running_bot(telegram, bot):
                        bot.scheduler = scheduler
                        yield World(
                            bot,
                            scheduler,
                            clock,
                            telegram,
                            clickup,
                            browser,
                            path,
                            redis,
                            prefix,
                            make,
                        )
            finally:
                os.environ.pop("CLICKUP_API_TOKEN", None)
                await asyncio.to_thread(browser.quit)
                keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
                if keys:
                    await redis.delete(*keys)
                await redis.aclose()


async def test_an_admin_signs_in_with_the_link_the_bot_sends_privately(world: World) -> None:
    tg = world.telegram
    tg.message_update(f"/dashboard@{BOT_USERNAME}", user_id=ADMIN)  # in the group
    assert await eventually(lambda: any("private message" in t for t in sent_texts(tg, -100)))
    assert not any("token=" in t for t in sent_texts(tg, -100))  # never a link in the group
    assert await eventually(lambda: any("token=" in t for t in sent_texts(tg, ADMIN)))
    tg.message_update(f"/dashboard@{BOT_USERNAME}", user_id=MEMBER)  # not an admin
    assert await eventually(lambda: any("admins only" in t for t in sent_texts(tg, -100)))
    assert not sent_texts(tg, MEMBER)
    [link] = re.findall(r"https?://\S+", next(t for t in sent_texts(tg, ADMIN) if "token=" in t))
    await world.browser.get(link)
    assert world.browser.url.endswith("/dashboard/")
    body = await world.browser.text()
    assert "telegram:42" in body and "admin" in body
    assert "clickup" in body and "time" in body  # the MCP servers, up
    await world.browser.get(link)  # the same link again: used
    assert "used" in await world.browser.text()


async def test_each_page_shows_real_data_and_is_captured(world: World) -> None:
    tg = world.telegram
    await world.scheduler.store.add(schedule("daily", RUN_TIME, "Ann"), 20)
    await world.scheduler.store.add(
        schedule("hostl", "/help <script>window.pwned=1</script>", "<b>Mallory</b>"), 20
    )
    world.clock.set(datetime(2026, 1, 5, 9, 0, 5, tzinfo=UTC))
    assert await world.scheduler.tick() == 2  # a run each: history, a tool call in the audit
    tg.message_update(f"@{BOT_USERNAME} file the weekly report in ClickUp", user_id=MEMBER)
    assert await eventually(lambda: any(p.get("reply_markup") for p in tg.sent()))  # Run all?
    job = f"job-{uuid.uuid4().hex[:6]}"
    await world.redis.set(f"{world.prefix}:q:result:{job}", replies_to_json([Reply("Resent once")]))
    await world.redis.xadd(
        f"{world.prefix}:q:unconfirmed",
        {"job": job, "part": "0", "action": "skip", "target": "telegram:-100", "thread": ""},
    )
    expected = {
        "overview": ["telegram", "clickup", "up", "Redis"],
        "schedules": ["daily", "hostl", "Europe/London", "ok", "<script>window.pwned=1</script>"],
        "approvals": ["file the weekly report in ClickUp", "Weekly report", "telegram:-100"],
        "chats": ["telegram:-100", "allowed"],
        "audit": ["tool_call", "time/get_current_time", "admin_command"],
        "config": ["api_key: '***'", "clickup"],
        "delivery": [job, "telegram:-100"],
        "usage": ["test-model", "chat", "0.0001"],  # 45 tokens at 2.5 a million
        "servers": ["create_task", "get_current_time"],
        "doctor": ["token valid", "up, 6 tools"],
    }
    for name, words in expected.items():
        body = await world.page("/" if name == "overview" else f"/{name}")
        for word in words:
            assert word in body, (name, word)
        assert LLM_KEY not in body and world.clickup.token not in body, name
        await world.shot(name)
    await world.page("/schedules")
    assert await world.browser.script("return window.pwned === undefined")  # shown, not run
    assert "<b>Mallory</b>" in await world.browser.text("#schedule-hostl")


async def test_a_schedule_paused_in_the_browser_is_skipped_by_the_next_tick(world: World) -> None:
    await world.page("/schedules")
    flash = await world.browser.submit("#schedule-hostl button[data-action=pause]")
    assert "hostl paused" in flash
    assert "paused" in await world.browser.text("#schedule-hostl")
    before = len(await world.scheduler.store.runs("hostl"))
    world.clock.set(datetime(2026, 1, 6, 9, 0, 5, tzinfo=UTC))
    assert await world.scheduler.tick() == 1  # only "daily"
    assert len(await world.scheduler.store.runs("hostl")) == before
    assert len(await world.scheduler.store.runs("daily")) == 2
    audit = await world.page("/audit?action=dashboard")
    assert "schedule_pause" in audit and "42" in audit  # who did it


async def test_running_a_waiting_plan_from_approvals_runs_the_tool_once(world: World) -> None:
    await world.page("/approvals")
    assert world.clickup.tasks == {}  # waiting for approval
    flash = await world.browser.submit("tr[id^=plan-] button[data-action=run]")
    assert flash.startswith("Running")
    assert [t["name"] for t in world.clickup.tasks.values()] == ["Weekly report"]
    assert await eventually(
        lambda: any("Filed the weekly report" in t for t in sent_texts(world.telegram, -100))
    )
    body = await world.page("/approvals")
    assert "Nothing waits for approval" in body
    assert "approval_run" in body  # the history says who decided
    assert len(world.clickup.tasks) == 1


async def test_an_unconfirmed_part_resent_from_the_browser_arrives_once(world: World) -> None:
    await world.page("/delivery")
    flash = await world.browser.submit("tr[id^=entry-] button[data-action=resend]")
    assert flash.startswith("Resent part 0")
    assert sent_texts(world.telegram, -100).count("Resent once") == 1
    assert "every part was confirmed" in await world.page("/delivery")


async def test_a_config_change_is_shown_as_a_diff_and_reloaded(world: World) -> None:
    assert "matches the running config" in await world.page("/config")
    world.config_path.write_text(world.config_text(30))
    body = await world.page("/config")
    assert "limits.messages_per_minute_per_user" in body
    assert "+  messages_per_minute_per_user: 30" in await world.browser.text("#diff")
    await world.shot("config")
    flash = await world.browser.submit("button[data-action=reload]")
    assert "messages_per_minute_per_user" in flash
    assert world.bot.config.limits.messages_per_minute_per_user == 30
    assert "matches the running config" in await world.browser.text()


async def test_a_server_restarted_from_the_browser_comes_back(world: World) -> None:
    await world.page("/servers")
    flash = await world.browser.submit("#server-time button[data-action=restart]")
    assert "Restarting time" in flash

    async def back_up() -> bool:
        [time_server] = [s for s in world.bot.services.hub.status() if s.name == "time"]
        return time_server.restarts == 1 and time_server.state == "up"

    assert await until(back_up)
    assert "1 restarts" in await world.page("/servers")
