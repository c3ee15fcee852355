"""Both delivery stores keep the same contract; Redis also finds a dead process's requests."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from orchestrator.delivery.base import DeliveryStore, InboundRequest
from orchestrator.delivery.in_process import InProcessDeliveryStore
from orchestrator.delivery.redis_store import RedisDeliveryStore
from orchestrator.messages import Reply, ReplyKind


@pytest.fixture(params=["inprocess", "redis"])
async def store(
    request: pytest.FixtureRequest, redis_url: str, key_prefix: str, redis_client: object
) -> AsyncIterator[DeliveryStore]:
    if request.param == "inprocess":
        yield InProcessDeliveryStore()
        return
    s = RedisDeliveryStore(aioredis.Redis.from_url(redis_url), key_prefix, lease_seconds=30)
    yield s
    await s.close()


async def test_a_key_is_claimed_once_and_any_shared_key_makes_a_duplicate(
    store: DeliveryStore,
) -> None:
    assert await store.claim("tg:update:1", "tg:message:5:9")
    assert not await store.claim("tg:update:1")
    assert not await store.claim("tg:update:2", "tg:message:5:9")  # same message, new update
    assert await store.claim("tg:update:3")


async def test_a_request_keeps_its_notice_replies_and_sent_parts_until_finished(
    store: DeliveryStore,
) -> None:
    await store.open(InboundRequest("k1", "telegram", {"update_id": 1}), "me")
    await store.set_notice("k1", "77")
    await store.save_replies("k1", [Reply("hi"), Reply("Summary", ReplyKind.SUMMARY)])
    await store.mark_sent("k1", "0.0", "77")
    got = await store.get("k1")
    assert got is not None and got.payload == {"update_id": 1} and got.notice == "77"
    assert got.sent == {"0.0": "77"} and got.replies is not None and len(got.replies) == 2
    await store.finish("k1")
    assert await store.get("k1") is None


async def test_redis_finds_a_request_whose_lease_expired(
    redis_url: str, key_prefix: str, redis_client: Any
) -> None:
    first = RedisDeliveryStore(aioredis.Redis.from_url(redis_url), key_prefix, lease_seconds=30)
    second = RedisDeliveryStore(aioredis.Redis.from_url(redis_url), key_prefix, lease_seconds=30)
    try:
        await first.open(InboundRequest("k2", "telegram", {"update_id": 2}), "gone")
        assert await second.orphans("telegram") == []  # its lease is still alive
        await redis_client.delete(f"{key_prefix}:dlv:lease:k2")  # as when it runs out
        [orphan] = await second.orphans("telegram")
        assert orphan.key == "k2"
        assert await second.lease(["k2"], "alive", take=True) == ["k2"]
        assert await first.lease(["k2"], "other", take=True) == []  # taken once
        assert await second.count_resume("k2") == 1
    finally:
        await first.close()
        await second.close()


async def test_redis_finds_a_request_whose_owner_stopped_beating_before_its_lease_ends(
    redis_url: str, key_prefix: str, redis_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    first = RedisDeliveryStore(aioredis.Redis.from_url(redis_url), key_prefix, lease_seconds=60)
    second = RedisDeliveryStore(aioredis.Redis.from_url(redis_url), key_prefix, lease_seconds=60)
    try:
        await first.open(InboundRequest("k3", "telegram", {"update_id": 3}), "killed")
        await second.beat("alive")
        assert await second.orphans("telegram") == []  # its owner beats
        await redis_client.delete(f"{key_prefix}:dlv:alive:killed")  # as when it stops beating
        [orphan] = await second.orphans("telegram")
        assert orphan.key == "k3"
        with caplog.at_level(logging.INFO, logger="orchestrator.delivery.redis_store"):
            assert await second.lease(["k3"], "alive", take=True) == ["k3"]
        assert await first.lease(["k3"], "other", take=True) == []  # the new owner is alive
        assert await second.orphans("telegram") == []
        [line] = [r.getMessage() for r in caplog.records if "lease_taken" in r.getMessage()]
        assert int(line.rsplit("lease_left_ms=", 1)[1]) > 0  # taken before the lease ran out
    finally:
        await first.close()
        await second.close()
