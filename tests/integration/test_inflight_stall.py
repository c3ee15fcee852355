"""An event-loop stall longer than the lease never makes a process resume its own request."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis
import redis.asyncio as aioredis

from orchestrator.delivery.base import InboundRequest
from orchestrator.delivery.inflight import Inflight
from orchestrator.delivery.redis_store import RedisDeliveryStore


async def test_a_stall_past_the_lease_does_not_resume_the_request_still_running(
    redis_url: str, key_prefix: str, redis_client: Any
) -> None:
    store = RedisDeliveryStore(
        aioredis.Redis.from_url(redis_url), key_prefix, lease_seconds=0.2, alive_seconds=0.2
    )
    inflight = Inflight(store, "telegram", lease_seconds=0.2)
    resumed: list[str] = []
    marker_resumed = asyncio.Event()

    async def resume(request: InboundRequest) -> None:
        resumed.append(request.key)
        if request.key == "marker":
            marker_resumed.set()
        await inflight.end(request.key)

    try:
        assert await inflight.begin("running", {"update_id": 1})
        inflight.start(resume)
        await asyncio.sleep(0)  # the watch's first pass
        time.sleep(0.6)  # the stall: the loop is blocked past the lease and the liveness key
        # A request of a dead process, orphaned: the watch's next pass after the stall sees both.
        await store.open(InboundRequest("marker", "telegram", {"update_id": 2}), "dead-owner")
        await redis_client.delete(f"{key_prefix}:dlv:alive:dead-owner")
        await asyncio.wait_for(marker_resumed.wait(), 30)
        assert resumed == ["marker"]  # the running request was not resumed by its own process
        owner = await redis_client.get(f"{key_prefix}:dlv:lease:running")
        assert owner == inflight.owner.encode()  # and its lapsed lease was taken back
    finally:
        await inflight.stop()
        await store.close()


async def test_a_stall_past_the_liveness_key_does_not_let_another_process_take_the_request(
    redis_url: str, key_prefix: str
) -> None:
    """Liveness is beaten from a thread: a process whose event loop is stalled (a long CPU-bound
    step) still looks alive to the others, and one that stops beating is taken over at once."""

    def store() -> RedisDeliveryStore:
        client = aioredis.Redis.from_url(redis_url)
        return RedisDeliveryStore(
            client, key_prefix, lease_seconds=60, alive_seconds=0.4, url=redis_url
        )

    first, second = store(), store()
    running, watcher = Inflight(first, "telegram", lease_seconds=60), Inflight(second, "telegram")
    taken: list[str] = []
    took = asyncio.Event()

    async def resume(request: InboundRequest) -> None:
        taken.append(request.key)
        took.set()

    async def nothing(request: InboundRequest) -> None:
        raise AssertionError("the running process resumed its own request")

    try:
        assert await running.begin("running", {"update_id": 1})
        running.start(nothing)
        await asyncio.sleep(0)
        time.sleep(1.2)  # the stall: three liveness periods without the event loop
        # Nothing in the loop ran during the stall, yet the process still reads as alive.
        alive = redis.Redis.from_url(redis_url)
        assert alive.exists(f"{key_prefix}:dlv:alive:{running.owner}") == 1
        alive.close()
        assert await watcher.recover(resume) == 0 and taken == []  # still alive: not taken
        # The process dies: its thread stops beating, nothing ends the request.
        assert running._stop_beating is not None
        running._stop_beating()
        running._stop_beating = None
        await running.stop()
        watcher.start(resume)
        await asyncio.wait_for(took.wait(), 30)
        assert taken == ["running"]
    finally:
        await watcher.stop()
        await first.close()
        await second.close()
