"""A scheduler whose runner dies mid-run: another process takes the slot over once its lease
expires, runs it once, and the result is posted once (real Redis, two scheduler instances)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from orchestrator.clock import FakeClock
from orchestrator.config import SchedulerSettings
from orchestrator.messages import ChatMessage, Reply
from orchestrator.scheduling.claims import RedisRunClaims
from orchestrator.scheduling.engine import Scheduler
from orchestrator.scheduling.parse import parse_when
from orchestrator.scheduling.redis_store import RedisScheduleStore
from orchestrator.scheduling.wiring import make_runner
from tests.helpers import eventually

START = datetime(2026, 3, 23, 8, 59, tzinfo=UTC)
SETTINGS = SchedulerSettings(store="redis", grace_seconds=900, lease_seconds=0.5)


class Process:
    """One scheduler 'process': its store, its leases, its runner that posts to `posts`."""

    def __init__(
        self, name: str, url: str, prefix: str, clock: FakeClock, world: World, dies: str = ""
    ) -> None:
        self.name, self.world, self.dies = name, world, dies
        store = RedisScheduleStore.from_url(url, prefix)
        claims = RedisRunClaims(aioredis.Redis.from_url(url), prefix, lease_seconds=0.5)
        runner = make_runner(self.handle, self.post, lambda s: self.scheduler.first_post(s))
        self.scheduler = Scheduler(store, clock, runner, SETTINGS, claims)

    async def handle(self, message: ChatMessage) -> list[Reply]:
        self.world.started.append(self.name)
        if self.dies == "before_post":
            await asyncio.Event().wait()  # hangs until the process 'dies'
        return [Reply(f"report by {self.name}")]

    async def post(self, platform: str, chat_id: str, replies: object) -> bool:
        self.world.posts.append(self.name)
        if self.dies == "after_post":
            await asyncio.Event().wait()  # posted, then the process dies before finishing
        return True


class World:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.posts: list[str] = []


@pytest.mark.parametrize(("dies", "posted_by"), [("before_post", "B"), ("after_post", "A")])
async def test_a_run_whose_process_died_is_taken_over_once_and_posted_once(
    dies: str, posted_by: str, redis_url: str, key_prefix: str, redis_client: object
) -> None:
    clock = FakeClock(START)
    world = World()
    a = Process("A", redis_url, key_prefix, clock, world, dies)
    b = Process("B", redis_url, key_prefix, clock, world)
    message = ChatMessage("console", "team", "ann", "", user_name="Ann")
    when = parse_when("every monday at 9", ZoneInfo("UTC"), clock.now())
    await a.scheduler.create(
        message, when=when, when_text="every monday at 9", what="weekly report", is_admin=False
    )
    clock.advance(120)
    started = await a.scheduler._start_due()
    assert len(started) == 1
    assert await eventually(
        lambda: world.started == ["A"] and len(world.posts) == int(dies == "after_post")
    )
    for task in started:  # process A dies mid-run: no finish, no lease renewal
        task.cancel()
    await asyncio.gather(*started, return_exceptions=True)
    assert await _tick_until_b(b, world)  # after A's lease expired
    await b.scheduler.tick()  # the slot is done now: nothing runs again
    await a.scheduler.tick()
    assert world.started == ["A", "B"]
    assert world.posts == [posted_by]  # posted once, by whoever got there first
    await a.scheduler.close()
    await b.scheduler.close()


async def _tick_until_b(b: Process, world: World) -> bool:
    for _ in range(100):
        await b.scheduler.tick()
        if "B" in world.started:
            return True
        await asyncio.sleep(0.05)
    return False
