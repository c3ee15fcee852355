"""Which worker reads which partition: a redis-py `Lock` per partition, and a fair share.

Workers announce themselves in a sorted set (name -> last heartbeat). Each holds at most
ceil(partitions / live workers) leases, so a worker that joins gets partitions within a tick or
two and a dead worker's leases expire after `lease_seconds` and are taken by the others. The
lock is redis-py's own (token-checked SET NX PX, extended while held), not one of ours.
"""

from __future__ import annotations

import contextlib
import math
import time
import zlib

import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from orchestrator.queue.keys import QueueKeys


class Membership:
    """The live workers, by heartbeat."""

    def __init__(self, client: aioredis.Redis, keys: QueueKeys, name: str, ttl: float) -> None:
        self.client, self.keys, self.name, self.ttl = client, keys, name, ttl

    async def beat(self) -> int:
        """Record this worker as alive; how many workers are alive."""
        now = time.time()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(self.keys.workers, {self.name: now})
            pipe.zremrangebyscore(self.keys.workers, "-inf", now - self.ttl)
            pipe.zcard(self.keys.workers)
            *_, alive = await pipe.execute()
        return max(1, int(alive))

    async def leave(self) -> None:
        await self.client.zrem(self.keys.workers, self.name)

    def share(self, alive: int) -> int:
        return math.ceil(self.keys.partitions / max(1, alive))

    def preference(self) -> list[int]:
        """Partitions in this worker's order of preference (spread, so workers rarely collide)."""
        start = zlib.crc32(self.name.encode()) % self.keys.partitions
        return [(start + i) % self.keys.partitions for i in range(self.keys.partitions)]


class PartitionLease:
    """The right to read one partition, held while renewed."""

    def __init__(self, client: aioredis.Redis, keys: QueueKeys, partition: int, ttl: float):
        self.partition = partition
        self.lock = Lock(client, keys.lease(partition), timeout=ttl, thread_local=False)

    async def acquire(self) -> bool:
        return bool(await self.lock.acquire(blocking=False))

    async def renew(self) -> bool:
        """Reset the expiry; False when the lease was lost (expired and maybe taken)."""
        try:
            await self.lock.reacquire()
        except LockError:
            return False
        return True

    async def release(self) -> None:
        with contextlib.suppress(LockError):  # expired already: nothing to give back
            await self.lock.release()
