"""Run claims: who runs a schedule's slot, once across processes.

A slot (schedule id + scheduled time) is leased with Redis `SET NX PX` and renewed while its run
is alive; a "done" marker keeps a finished slot from running again and a "posted" marker keeps a
taken-over run from posting twice. `InProcessRunClaims` is the same contract in one process.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

Slot = tuple[str, datetime]  # schedule id, scheduled time


class RunClaims(Protocol):
    """Leases on runs: one live holder per (schedule, scheduled time), taken over when it dies."""

    lease_seconds: float

    async def claim(self, schedule_id: str, scheduled: datetime, owner: str = "") -> bool:
        """Lease the slot for `owner`; False when it is leased or already done."""

    async def renew(self, schedule_id: str, scheduled: datetime, owner: str = "") -> bool: ...

    async def finish(self, schedule_id: str, scheduled: datetime) -> None:
        """The slot ran: never run it again."""

    async def orphans(self) -> list[Slot]:
        """Slots whose holder died (lease expired, not done)."""

    async def first_post(self, schedule_id: str, scheduled: datetime) -> bool:
        """True exactly once per slot: whoever gets it posts the result."""

    async def close(self) -> None: ...


class InProcessRunClaims:
    """Claims for one process (the file store's scheduler): a dying runner takes its
    process, and so its claims, with it; nothing is left to take over."""

    lease_seconds = 60.0

    def __init__(self, keep: int = 50_000) -> None:
        self._claimed: dict[tuple[str, float], None] = {}
        self._posted: dict[tuple[str, float], None] = {}
        self._keep = keep

    def _first(self, seen: dict[tuple[str, float], None], key: tuple[str, float]) -> bool:
        if key in seen:
            return False
        seen[key] = None
        if len(seen) > self._keep:  # oldest first: dicts keep insertion order
            for old in list(seen)[: self._keep // 2]:
                del seen[old]
        return True

    async def claim(self, schedule_id: str, scheduled: datetime, owner: str = "") -> bool:
        return self._first(self._claimed, (schedule_id, scheduled.timestamp()))

    async def renew(self, schedule_id: str, scheduled: datetime, owner: str = "") -> bool:
        return True

    async def finish(self, schedule_id: str, scheduled: datetime) -> None:
        return None

    async def orphans(self) -> list[Slot]:
        return []

    async def first_post(self, schedule_id: str, scheduled: datetime) -> bool:
        return self._first(self._posted, (schedule_id, scheduled.timestamp()))

    async def close(self) -> None:
        return None


# Lease a slot unless it is done or leased; note it as running so a dead holder is found.
_CLAIM = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RedisRunClaims:
    """Leases in Redis: `lease:<id>:<epoch>` (SET NX PX, renewed by its owner), `done:...`,
    `posted:...` (SET NX) and a `running` sorted set to find slots whose holder died."""

    def __init__(
        self,
        client: Any,
        prefix: str = "orch",
        ttl_seconds: int = 2 * 86400,
        lease_seconds: float = 60,
    ) -> None:
        self.client = client
        self.prefix = f"{prefix}:sched"
        self.ttl_seconds = ttl_seconds
        self.lease_seconds = lease_seconds
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)

    def _key(self, kind: str, schedule_id: str, scheduled: datetime) -> str:
        return f"{self.prefix}:{kind}:{schedule_id}:{int(scheduled.timestamp())}"

    async def claim(self, schedule_id: str, scheduled: datetime, owner: str = "") -> bool:
        epoch = int(scheduled.timestamp())
        keys = [
            self._key("lease", schedule_id, scheduled),
            self._key("done", schedule_id, scheduled),
            f"{self.prefix}:running",
        ]
        args = [owner or "-", int(self.lease_seconds * 1000), epoch, f"{schedule_id}:{epoch}"]
        return bool(await self._claim(keys=keys, args=args))

    async def renew(self, schedule_id: str, scheduled: datetime, owner: str = "") -> bool:
        lease = self._key("lease", schedule_id, scheduled)
        return bool(
            await self._renew(keys=[lease], args=[owner or "-", int(self.lease_seconds * 1000)])
        )

    async def finish(self, schedule_id: str, scheduled: datetime) -> None:
        epoch = int(scheduled.timestamp())
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self._key("done", schedule_id, scheduled), b"1", ex=self.ttl_seconds)
            pipe.zrem(f"{self.prefix}:running", f"{schedule_id}:{epoch}")
            pipe.delete(self._key("lease", schedule_id, scheduled))
            await pipe.execute()

    async def orphans(self) -> list[Slot]:
        found: list[Slot] = []
        for raw in await self.client.zrange(f"{self.prefix}:running", 0, -1):
            member = raw.decode() if isinstance(raw, bytes) else str(raw)
            schedule_id, _, epoch = member.rpartition(":")
            scheduled = datetime.fromtimestamp(int(epoch), UTC)
            if not await self.client.exists(self._key("lease", schedule_id, scheduled)):
                found.append((schedule_id, scheduled))
        return found

    async def first_post(self, schedule_id: str, scheduled: datetime) -> bool:
        key = self._key("posted", schedule_id, scheduled)
        return bool(await self.client.set(key, b"1", nx=True, ex=self.ttl_seconds))

    async def close(self) -> None:
        await self.client.aclose()
