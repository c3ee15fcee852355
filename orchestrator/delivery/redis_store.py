"""Delivery records in Redis: they outlive the process, and several processes share them.

Keys under `<prefix>:dlv:`: `claim:<key>` (SET NX EX, the idempotency key), `req:<key>` (a hash:
the request, its notice, its replies, one `sent:<part>` field per part sent), `open:<platform>`
(a sorted set of requests in progress) and `lease:<key>` (the owner's id, with a short expiry
that the owner keeps renewing). A request whose lease expired belongs to a dead process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from orchestrator.delivery.base import InboundRequest, replies_to_data
from orchestrator.messages import Reply

# Claim every key or none: a duplicate of any of them is a duplicate of the event.
_CLAIM = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
for i = 1, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[1]) end
return 1
"""

# Renew a lease only while it is still ours.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
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
    ) -> None:
        self.client = client
        self.prefix = f"{prefix}:dlv"
        self.claim_ttl = claim_ttl_seconds
        self.lease_ms = int(lease_seconds * 1000)
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)

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

    async def lease(self, keys: Sequence[str], owner: str, *, take: bool = False) -> list[str]:
        held = []
        for key in keys:
            lease = self._k("lease", key)
            if take:
                ok = await self.client.set(lease, owner, nx=True, px=self.lease_ms)
            else:
                ok = await self._renew(keys=[lease], args=[owner, self.lease_ms])
            if ok:
                held.append(key)
        return held

    async def orphans(self, platform: str) -> list[InboundRequest]:
        found = []
        open_set = self._k("open", platform)
        for raw in await self.client.zrange(open_set, 0, -1):
            key = _bytes(raw).decode()
            if await self.client.exists(self._k("lease", key)):
                continue
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
