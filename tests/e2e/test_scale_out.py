"""Scale-out on Redis: a real front end and real workers as subprocesses, the fake Bot API as
Telegram. Every message is answered once, in order per chat, whatever happens to a worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.fakes.telegram_api import FakeTelegram
from tests.scalekit import (
    Procs,
    live_workers,
    markers_answered,
    order_violations,
    push_messages,
    queue_empty,
    queue_length,
    replies_by_message,
    unconfirmed_skips,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

PARTITIONS = 16


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def procs(
    tmp_path: Path, fake: FakeTelegram, redis_url: str, key_prefix: str, redis_client: object
) -> AsyncIterator[Procs]:
    config = write_config(tmp_path / "scale.yaml", fake, redis_url, key_prefix)
    running = Procs(config, tmp_path)
    yield running
    await running.close()


def all_answered(fake: FakeTelegram, asked: dict[int, int], skipped: int = 0):  # type: ignore[no-untyped-def]
    return lambda: len(replies_by_message(fake).keys() & asked.keys()) >= len(asked) - skipped


async def test_three_workers_answer_1000_messages_once_in_order_then_a_kill_9_loses_nothing(
    fake: FakeTelegram, procs: Procs, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """One front end and three workers (one start of the four processes serves both parts):
    1,000 messages answered once each, in order, the work spread; then a worker is killed
    (kill -9) a quarter of the way through 500 more, and nothing is lost or answered twice."""
    procs.frontend()
    for n in range(3):
        procs.worker(f"w{n}")
    assert await wait_until(lambda: live_workers(redis_client, key_prefix), 60)
    assert await wait_until(lambda: _eq(live_workers(redis_client, key_prefix), 3), 60), (
        "three workers did not start"
    )
    asked = push_messages(fake, chats=100, per_chat=10)

    assert await wait_until(all_answered(fake, asked), 150), _progress(fake, asked, procs)
    assert await wait_until(lambda: queue_empty(redis_client, key_prefix, PARTITIONS), 10)
    assert await markers_answered(fake, chats=100)  # a duplicate would have shown up before
    counts = replies_by_message(fake)
    assert {mid: counts.get(mid, 0) for mid in asked} == {mid: 1 for mid in asked}
    assert order_violations(fake) == []
    jobs_done = lambda: {n: procs.log_text(n).count("job_done") for n in ("w0", "w1", "w2")}  # noqa: E731
    # A worker logs `job_done` just after its reply is posted: wait for the last line.
    assert await wait_until(lambda: sum(jobs_done().values()) >= 1100, 10), jobs_done()
    done = jobs_done()
    assert sum(done.values()) == 1100 and all(done.values()), done  # the work was spread

    # kill -9 of a worker mid-run: 500 more messages in 50 of the chats, w1 killed once a
    # quarter of them are answered (`answered_at_kill` below proves the kill came mid-run).
    more = push_messages(fake, chats=50, per_chat=10)
    answered_more = lambda: len(replies_by_message(fake).keys() & more.keys())  # noqa: E731
    assert await wait_until(lambda: answered_more() >= 125, 120)
    procs.kill("w1")
    answered_at_kill = answered_more()

    # Done when every entry was acknowledged (and deleted): the queue is empty.
    assert await wait_until(lambda: not fake.updates, 60)  # the front end took them all
    assert await wait_until(lambda: queue_empty(redis_client, key_prefix, PARTITIONS), 150), (
        _progress(fake, more, procs)
    )
    assert await markers_answered(fake, chats=100)  # a duplicate would have shown up before
    skipped = set(await unconfirmed_skips(redis_client, key_prefix))
    counts = replies_by_message(fake)
    assert all(counts.get(mid, 0) <= 1 for mid in asked | more), "a message was answered twice"
    missing = {mid for mid in more if counts.get(mid, 0) == 0}
    # A part the killed worker claimed but never confirmed is not resent (Telegram cannot tell
    # whether it arrived): at most one per job it had in hand, each one logged and recorded.
    # Only such a part may be missing; usually it had arrived.
    assert len(skipped) <= 8, skipped
    assert missing <= {int(job.split(":")[2]) for job in skipped}, (missing, skipped)
    print(f"unconfirmed parts: {len(skipped)}, of which not delivered: {len(missing)}")
    assert order_violations(fake) == []
    assert answered_at_kill < len(more), "killed too late to prove anything"
    # Whether w1 died with a job in hand depends on the instant: when it did, the others claimed
    # its entries (`entries_claimed`) and any part it had begun is among `skipped` above; the
    # assertions hold either way (a run of CI killed it between two jobs).


async def test_late_worker_picks_up_queued_work_and_a_full_stop_loses_nothing(
    fake: FakeTelegram, procs: Procs, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    procs.frontend()
    asked = push_messages(fake, chats=20, per_chat=10)
    queued = lambda: _eq(queue_length(redis_client, key_prefix, PARTITIONS), len(asked))  # noqa: E731
    assert await wait_until(queued, 60)  # the front end queued them all
    assert replies_by_message(fake) == {}  # no worker yet: nothing answered
    procs.worker("late")
    assert await wait_until(lambda: replies_by_message(fake), 90), _progress(fake, asked, procs)
    # The late worker alone took the queued work up; a second joins while it is at it (its
    # start overlaps the answering instead of following it).
    procs.worker("second")
    assert await wait_until(all_answered(fake, asked), 90), _progress(fake, asked, procs)
    assert await wait_until(lambda: _eq(live_workers(redis_client, key_prefix), 2), 60)
    more = push_messages(fake, chats=60, per_chat=10)
    assert await wait_until(lambda: len(replies_by_message(fake).keys() & more.keys()) >= 30, 90)
    # Stop mid-run, whatever the machine's speed: sends wait until both workers are stopping,
    # so they answer no more than the jobs they had in hand.
    fake.hold("sendMessage")
    stopping = [asyncio.create_task(procs.stop(name)) for name in ("late", "second")]
    both = lambda: all("worker_stopping" in procs.log_text(n) for n in ("late", "second"))  # noqa: E731
    assert await wait_until(both, 60)
    fake.release("sendMessage")
    stopped = await asyncio.gather(*stopping)
    assert stopped == [0, 0]
    answered_while_up = len(replies_by_message(fake).keys() & more.keys())
    assert answered_while_up < len(more), "stopped too late to prove anything"
    procs.worker("again")
    assert await wait_until(all_answered(fake, more), 90), _progress(fake, more, procs)
    assert await markers_answered(fake, chats=60)  # a duplicate would have shown up before
    counts = replies_by_message(fake)
    assert {m: counts.get(m, 0) for m in asked | more} == {m: 1 for m in asked | more}
    assert order_violations(fake) == []


async def _eq(value: object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]


def _progress(fake: FakeTelegram, asked: dict[int, int], procs: Procs) -> str:
    answered = len(replies_by_message(fake).keys() & asked.keys())
    tails = {n: procs.log_text(n)[-1500:] for n in ("frontend", "w0", "late") if _exists(procs, n)}
    return f"answered {answered}/{len(asked)}; logs: {tails}"


def _exists(procs: Procs, name: str) -> bool:
    return (procs.logs / f"{name}.log").exists()
