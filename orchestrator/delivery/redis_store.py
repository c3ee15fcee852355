"""Delivery records in Redis: they outlive the process, and several processes share them.

Keys under `<prefix>:dlv:`: `claim:<key>` (SET NX EX, the idempotency key), `req:<key>` (a hash:
the request, its notice, its replies, one `sent:<part>` field per part sent), `open:<platform>`
(a sorted set of requests in progress), `lease:<key>` (the owner's id, with an expiry that the
owner keeps renewing) and `alive:<owner>` (a short-lived key each process renews about every
second). A request whose lease expired, or whose owner's `alive` key is gone, belongs to a dead
process: after a `kill -9` the next process resumes it within `alive_seconds`, not a whole lease.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import redis
import redis.asyncio as aioredis

from orchestrator.delivery.base import InboundRequest, replies_to_data
from orchestrator.messages import Reply

log = logging.getLogger(__name__)

# Claim every key or none: a duplicate of any of them is a duplicate of the event.
_CLAIM = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
for i = 1, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[1]) end
return 1
"""

# Renew a lease while it is still ours; take it back if it expired while this process stalled
# (nobody took it meanwhile); never take it from another owner.
_RENEW = """
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# Take a lease that expired or whose owner is dead (its alive key, ARGV[3] .. owner, is gone);
# the taker is alive. Returns -1 when it is not free, else the old lease's remaining milliseconds
# (0: it had expired).
_TAKE = """
local cur = redis.call('GET', KEYS[1])
local left = 0
if cur then
  if redis.call('EXISTS', ARGV[3] .. cur) == 1 then return -1 end
  left = redis.call('PTTL', KEYS[1])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', ARGV[3] .. ARGV[1], '1', 'PX', ARGV[4])
return left
"""


class RedisDeliveryStore:
    durable = True

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        *,
        claim_ttl_seconds: int = 2 * 86400,
        lease_seconds: float = 30,
        alive_seconds: float = 5,
        url: str | None = None,
    ) -> None:
        self.client = client
        self.url = url  # for the liveness thread's own connection (keep_alive)
        self.prefix = f"{prefix}:dlv"
        self.claim_ttl = claim_ttl_seconds
        self.lease_ms = int(lease_seconds * 1000)
        self.alive_seconds = alive_seconds
        self._alive_ms = int(alive_seconds * 1000)
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._take = client.register_script(_TAKE)

    def _k(self, kind: str, key: str) -> str:
        return f"{self.prefix}:{kind}:{key}"

    async def claim(self, *keys: str) -> bool:
        result = await self._claim(keys=[self._k("claim", k) for k in keys], args=[self.claim_ttl])
        return bool(result)

    async def open(self, request: InboundRequest, owner: str) -> None:
        head = {
            "key": request.key,
            "platform": request.platform,
            "payload": request.payload,
            "received_at": request.received_at,
        }
        req = self._k("req", request.key)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(req, mapping={"request": json.dumps(head), "resumes": request.resumes})
            pipe.expire(req, self.claim_ttl)
            pipe.set(self._k("lease", request.key), owner, px=self.lease_ms)
            pipe.set(self._k("alive", owner), "1", px=self._alive_ms)
            pipe.zadd(self._k("open", request.platform), {request.key: request.received_at})
            await pipe.execute()

    async def get(self, key: str) -> InboundRequest | None:
        fields = await self.client.hgetall(self._k("req", key))
        return _request({_bytes(k): _bytes(v) for k, v in fields.items()})

    async def set_notice(self, key: str, notice: str) -> None:
        await self.client.hset(self._k("req", key), "notice", notice)

    async def save_replies(self, key: str, replies: Sequence[Reply]) -> None:
        await self.client.hset(self._k("req", key), "replies", json.dumps(replies_to_data(replies)))

    async def mark_sent(self, key: str, part: str, ref: str) -> None:
        await self.client.hset(self._k("req", key), f"sent:{part}", ref)

    async def finish(self, key: str) -> None:
        request = await self.get(key)
        async with self.client.pipeline(transaction=True) as pipe:
            if request is not None:
                pipe.zrem(self._k("open", request.platform), key)
            pipe.delete(self._k("req", key), self._k("lease", key))
            await pipe.execute()

    async def beat(self, owner: str) -> None:
        await self.client.set(self._k("alive", owner), "1", px=self._alive_ms)

    def keep_alive(self, owner: str) -> Callable[[], None]:
        """Beat `owner`'s liveness key from a thread of its own, so that a stalled event loop
        (a long CPU-bound step) never makes a living process look dead to the others; only a
        dead (or frozen) process stops beating. Returns the function that stops the thread."""
        if self.url is None:
            return lambda: None
        stop = threading.Event()
        key, every = self._k("alive", owner), self.alive_seconds / 4

        def run() -> None:
            client = redis.Redis.from_url(
                self.url or "", socket_timeout=every, health_check_interval=0
            )
            try:
                while not stop.is_set():
                    try:
                        client.set(key, "1", px=self._alive_ms)
                    except redis.RedisError as exc:
                        log.warning("delivery_beat_failed error=%s", type(exc).__name__)
                    stop.wait(every)
            finally:
                client.close()

        thread = threading.Thread(target=run, name=f"alive-{owner}", daemon=True)
        thread.start()

        def stop_beating() -> None:
            stop.set()  # the thread ends at its next wake-up; never block the event loop on it

        return stop_beating

    async def lease(self, keys: Sequence[str], owner: str, *, take: bool = False) -> list[str]:
        held = []
        for key in keys:
            lease = self._k("lease", key)
            if not take:
                if await self._renew(keys=[lease], args=[owner, self.lease_ms]):
                    held.append(key)
                continue
            left = int(
                await self._take(
                    keys=[lease],
                    args=[owner, self.lease_ms, self._k("alive", ""), self._alive_ms],
                )
            )
            if left >= 0:
                log.info("lease_taken key=%s owner=%s lease_left_ms=%d", key, owner, left)
                held.append(key)
        return held

    async def orphans(self, platform: str) -> list[InboundRequest]:
        found = []
        open_set = self._k("open", platform)
        for raw in await self.client.zrange(open_set, 0, -1):
            key = _bytes(raw).decode()
            owner = await self.client.get(self._k("lease", key))
            if owner is not None and await self.client.exists(
                self._k("alive", _bytes(owner).decode())
            ):
                continue  # leased by a live process
            request = await self.get(key)
            if request is None:  # the record expired: nothing left to resume
                await self.client.zrem(open_set, key)
                continue
            found.append(request)
        return found

    async def count_resume(self, key: str) -> int:
        return int(await self.client.hincrby(self._k("req", key), "resumes", 1))

    async def close(self) -> None:
        await self.client.aclose()


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _request(fields: dict[bytes, bytes]) -> InboundRequest | None:
    if not fields or b"request" not in fields:
        return None
    head: dict[str, Any] = json.loads(fields[b"request"])
    replies = fields.get(b"replies")
    return InboundRequest(
        key=head["key"],
        platform=head["platform"],
        payload=head["payload"],
        received_at=float(head["received_at"]),
        notice=fields.get(b"notice", b"").decode(),
        replies=json.loads(replies) if replies else None,
        sent={
            k.decode()[len("sent:") :]: v.decode()
            for k, v in fields.items()
            if k.startswith(b"sent:")
        },
        resumes=int(fields.get(b"resumes", b"0")),
    )
