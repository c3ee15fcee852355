"""Three schedulers, one real Redis, a fake clock: every slot runs exactly once, no bursts."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from orchestrator.clock import FakeClock
from orchestrator.config import SchedulerSettings
from orchestrator.messages import ChatMessage
from orchestrator.scheduling.claims import RedisRunClaims
from orchestrator.scheduling.engine import Scheduler
from orchestrator.scheduling.errors import ScheduleLimitError
from orchestrator.scheduling.parse import parse_when
from orchestrator.scheduling.redis_store import RedisScheduleStore
from orchestrator.scheduling.store import Schedule, ScheduleRun
from orchestrator.scheduling.when import next_runs, when_from_dict

# Sunday 22 March 2026; London's clocks go forward on the 29th, Sydney's go back on 5 April
START = datetime(2026, 3, 22, 0, 3, tzinfo=UTC)
TWO_WEEKS = timedelta(days=14)
STEP = 600  # seconds between ticks (less than the grace period)
SETTINGS = SchedulerSettings(store="redis", grace_seconds=900, max_per_chat=20)
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney"]
PHRASES = [
    "every 6 hours",
    "daily at {h}:{m:02d}",
    "every weekday at {h}:{m:02d}",
    "every monday and thursday at {h}",
    "{m} {h} * * SAT,SUN",
]

Run = tuple[str, float]  # schedule id, scheduled time


class Instance:
    """One scheduler 'process': its own Redis connections for the store and the claims."""

    def __init__(self, name: str, url: str, prefix: str, clock: FakeClock, runs: list) -> None:
        self.name, self.runs = name, runs
        store = RedisScheduleStore.from_url(url, prefix)
        claims = RedisRunClaims(aioredis.Redis.from_url(url), prefix)
        self.scheduler = Scheduler(store, clock, self.run, SETTINGS, claims)

    async def run(self, schedule: Schedule) -> None:
        assert schedule.last_run_at is not None
        await asyncio.sleep(0)  # let the other instances interleave
        self.runs.append((schedule.id, schedule.last_run_at.timestamp(), self.name))

    async def close(self) -> None:
        await self.scheduler.close()


async def create_hundred(scheduler: Scheduler, clock: FakeClock) -> list[Schedule]:
    created = []
    for i in range(100):
        zone = ZoneInfo(ZONES[i % 3])
        phrase = PHRASES[i % 5].format(h=(i * 7) % 24, m=(i * 13) % 60)
        message = ChatMessage("console", f"chat-{i // 10}", f"user-{i}", "", user_name=f"U{i}")
        when = parse_when(phrase, zone, clock.now())
        created.append(
            await scheduler.create(
                message, when=when, when_text=phrase, what=f"job {i}", is_admin=False
            )
        )
    return created


def expected_slots(schedules: list[Schedule], after: datetime, until: datetime) -> Counter:
    expected: Counter = Counter()
    for s in schedules:
        for t in runs_until(s, after, until):
            expected[(s.id, t.timestamp())] += 1
    return expected


def runs_until(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """Every run of `schedule` in (after, until]: asks for twice as many runs until one falls
    past `until` (a fixed 500 a schedule spent most of this suite's time in cron arithmetic)."""
    count = 16
    while True:
        runs = next_runs(schedule.when, after, count)
        if len(runs) < count or runs[-1] > until:
            return [t for t in runs if t <= until]
        count *= 2


async def tick_all(instances: list[Instance]) -> None:
    await asyncio.gather(*(i.scheduler.tick() for i in instances))


@pytest.mark.timeout(120)
async def test_three_processes_two_weeks_every_slot_exactly_once(
    redis_url: str, key_prefix: str, redis_client: aioredis.Redis
) -> None:
    clock = FakeClock(START)
    runs: list = []
    instances = [Instance(n, redis_url, key_prefix, clock, runs) for n in "abc"]
    schedules = await create_hundred(instances[0].scheduler, clock)
    end = START + TWO_WEEKS
    halfway = START + TWO_WEEKS / 2
    live = list(instances)
    try:
        while clock.now() < end:
            clock.advance(STEP)
            if clock.now() >= halfway and len(live) == 3:
                stopped = live.pop()  # one process dies mid-way; the others carry on
                await stopped.close()
            await tick_all(live)

        got = Counter((sid, ts) for sid, ts, _ in runs)
        expected = expected_slots(schedules, START, end)
        assert len(expected) > 1500
        assert got == expected  # every slot ran, none twice

        # wall-clock time holds across London's DST change
        london = [s for s in schedules if s.timezone == "Europe/London" and "daily" in s.when_text]
        for s in london:
            local = {
                datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo(s.timezone)).strftime("%H:%M")
                for sid, ts, _ in runs
                if sid == s.id
            }
            assert len(local) == 1, (s.when_text, local)

        # every process stops; they come back 3 days later
        for instance in live:
            await instance.close()
        live = []
        runs.clear()
        clock.advance(3 * 86400 + 7 * 60)
        restarted = [Instance(n, redis_url, key_prefix, clock, runs) for n in "xyz"]
        live = restarted
        await tick_all(restarted)
        per_schedule = Counter(sid for sid, _, _ in runs)
        assert max(per_schedule.values(), default=0) <= 1
        window = expected_slots(schedules, clock.now() - timedelta(seconds=900), clock.now())
        assert set(per_schedule) == {sid for sid, _ in window}  # only runs within grace
        store = restarted[0].scheduler.store
        for s in schedules:
            current = await store.get(s.id)
            assert current is not None and current.next_run_at is not None
            assert current.next_run_at > clock.now()
        before = len(runs)
        await tick_all(restarted)
        assert len(runs) == before
    finally:
        for instance in live:
            await instance.close()


async def test_store_patch_never_resurrects_and_advance_only_moves_forward(
    redis_url: str, key_prefix: str, redis_client: aioredis.Redis
) -> None:
    clock = FakeClock(START)
    store = RedisScheduleStore.from_url(redis_url, key_prefix)
    scheduler = Scheduler(store, clock, _never, SETTINGS, RedisRunClaims(redis_client, key_prefix))
    try:
        message = ChatMessage("telegram", "-100", "7", "", user_name="Ann")
        when = parse_when("daily at 9", ZoneInfo("Europe/London"), clock.now())
        s = await scheduler.create(
            message, when=when, when_text="daily at 9", what="x", is_admin=False
        )
        later = s.next_run_at + timedelta(days=1)
        assert await store.advance(s.id, later)
        assert not await store.advance(s.id, s.next_run_at)  # never backwards
        assert (await store.get(s.id)).next_run_at == later
        paused = await store.patch(s.id, paused=True)
        assert paused is not None and paused.paused
        assert await store.due(later + timedelta(days=9)) == []
        await store.patch(s.id, paused=False)
        assert [d.id for d in await store.due(later)] == [s.id]
        assert await store.delete(s.id)
        assert await store.patch(s.id, paused=True) is None
        assert await store.get(s.id) is None
        assert not await redis_client.exists(f"{key_prefix}:sched:s:{s.id}")
    finally:
        await store.close()


async def test_per_chat_limit_holds_under_concurrent_creates(
    redis_url: str, key_prefix: str, redis_client: aioredis.Redis
) -> None:
    clock = FakeClock(START)
    settings = SchedulerSettings(store="redis", max_per_chat=5)
    stores = [RedisScheduleStore.from_url(redis_url, key_prefix) for _ in range(3)]
    schedulers = [Scheduler(st, clock, _never, settings) for st in stores]
    message = ChatMessage("discord", "9", "1", "")
    when = parse_when("daily at 9", ZoneInfo("UTC"), clock.now())

    async def attempt(scheduler: Scheduler) -> bool:
        try:
            await scheduler.create(message, when=when, when_text="d", what="x", is_admin=False)
        except ScheduleLimitError:
            return False
        return True

    try:
        results = await asyncio.gather(*(attempt(schedulers[i % 3]) for i in range(15)))
        assert sum(results) == 5
        assert len(await stores[0].list_chat("discord:9")) == 5
    finally:
        for st in stores:
            await st.close()


async def test_claim_is_won_once(
    redis_url: str, key_prefix: str, redis_client: aioredis.Redis
) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(3)]
    claims = [RedisRunClaims(c, key_prefix, ttl_seconds=60) for c in clients]
    try:
        won = await asyncio.gather(*(c.claim("abcde", START) for c in claims for _ in range(4)))
        assert sum(won) == 1
        assert (
            0
            < await redis_client.ttl(f"{key_prefix}:sched:lease:abcde:{int(START.timestamp())}")
            <= 60
        )
        await claims[0].finish("abcde", START)  # done: no lease, and never claimed again
        assert not await claims[1].claim("abcde", START)
    finally:
        for c in claims:
            await c.close()


async def _never(schedule: Schedule) -> None:
    raise AssertionError("no run expected")


async def test_run_history_in_redis_keeps_the_newest_runs_and_goes_with_the_schedule(
    redis_client: object, key_prefix: str
) -> None:
    store = RedisScheduleStore(redis_client, key_prefix)
    moment = datetime(2026, 3, 30, 9, tzinfo=UTC)
    schedule = Schedule(
        id="hist1",
        platform="console",
        chat_id="c",
        creator_id="u",
        creator_name="U",
        when_text="daily at 9",
        when=when_from_dict({"kind": "cron", "expr": "0 9 * * *", "tz": "UTC"}),
        what="x",
        timezone="UTC",
        next_run_at=moment,
    )
    await store.add(schedule, 20)
    for i in range(4):
        run = ScheduleRun(moment, moment, float(i), "ok" if i % 2 else "failed", ("t/a",), "")
        await store.add_run("hist1", run, keep=3)
    runs = await store.runs("hist1")
    assert [r.duration_ms for r in runs] == [3.0, 2.0, 1.0]  # newest first, oldest dropped
    assert [s.id for s in await store.all()] == ["hist1"]
    await store.delete("hist1")
    assert await store.runs("hist1") == [] and await store.all() == []
