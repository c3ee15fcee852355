"""What a job has already produced and posted, so a retried job neither runs twice nor posts twice.

Two records per job, both in Redis with an expiry:
- the result: the replies of the first run (`SET NX`), so a job retried after its replies were
  computed posts those replies instead of running the request (and its tools) again;
- one marker per reply part, claimed with `SET NX` before the part is sent and set to the
  platform's message id after. A part claimed but never confirmed (its worker died mid-send) is
  not sent again: Telegram cannot say whether it arrived, and a double post is the failure users
  report most. It is logged and recorded in the `unconfirmed` stream instead (a platform that
  drops resends by key, Discord with `enforce_nonce`, gets it resent).

This module is the outbound exactly-once point of the queue; the delivery package of the
exactly-once work (idempotency keys, durable requests, per-reply "sent" records) plugs in here
through the `Outbox` Protocol.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Protocol

import redis.asyncio as aioredis

from orchestrator import metrics
from orchestrator.messages import Reply
from orchestrator.queue.job import replies_from_json, replies_to_json
from orchestrator.queue.keys import QueueKeys

log = logging.getLogger(__name__)

SENDING = b"sending"


class PartState(StrEnum):
    NEW = "new"  # claimed now: send it
    SENT = "sent"  # confirmed earlier: skip
    UNCONFIRMED = "unconfirmed"  # claimed earlier, never confirmed: skip and report


class Outbox(Protocol):
    async def result(self, job_id: str, replies: list[Reply]) -> list[Reply]:
        """Record the first run's replies; the recorded ones when a run was recorded before."""
        ...

    async def recorded(self, job_id: str) -> list[Reply] | None:
        """The replies an earlier run of this job recorded, if any."""
        ...

    async def claim_part(self, job_id: str, index: int) -> PartState: ...

    async def report_unconfirmed(
        self, job_id: str, index: int, action: str, target: str = "", thread: str = ""
    ) -> None:
        """Record a part no one can confirm; `target` (platform:chat_id) and `thread` let the
        console resend it."""
        ...

    async def part_sent(self, job_id: str, index: int, platform_id: str) -> None: ...

    async def part_not_delivered(self, job_id: str, index: int) -> None:
        """The platform proved the part did not arrive: it may be claimed again."""
        ...


class RedisOutbox:
    def __init__(self, client: aioredis.Redis, keys: QueueKeys, ttl_seconds: int) -> None:
        self.client, self.keys, self.ttl = client, keys, ttl_seconds

    async def recorded(self, job_id: str) -> list[Reply] | None:
        raw = await self.client.get(self.keys.result(job_id))
        return None if raw is None else replies_from_json(raw)

    async def result(self, job_id: str, replies: list[Reply]) -> list[Reply]:
        key = self.keys.result(job_id)
        if await self.client.set(key, replies_to_json(replies), nx=True, ex=self.ttl):
            return replies
        earlier = await self.recorded(job_id)
        return replies if earlier is None else earlier

    async def claim_part(self, job_id: str, index: int) -> PartState:
        key = self.keys.part(job_id, index)
        if await self.client.set(key, SENDING, nx=True, ex=self.ttl):
            return PartState.NEW
        value = await self.client.get(key)
        return PartState.UNCONFIRMED if value in (None, SENDING) else PartState.SENT

    async def report_unconfirmed(
        self, job_id: str, index: int, action: str, target: str = "", thread: str = ""
    ) -> None:
        log.warning("send_unconfirmed job=%s part=%d action=%s", job_id, index, action)
        metrics.unconfirmed_send(action)
        await self.client.xadd(
            self.keys.unconfirmed,
            {
                "job": job_id,
                "part": str(index),
                "action": action,
                "target": target,
                "thread": thread,
            },
            maxlen=10_000,
            approximate=True,
        )

    async def part_sent(self, job_id: str, index: int, platform_id: str) -> None:
        await self.client.set(self.keys.part(job_id, index), f"sent:{platform_id}", ex=self.ttl)

    async def part_not_delivered(self, job_id: str, index: int) -> None:
        await self.client.delete(self.keys.part(job_id, index))
