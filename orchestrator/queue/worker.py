"""The worker loop: hold a fair share of partition leases, read each partition in order, answer.

Per partition, one task reads its stream through the consumer group: first the entries this
worker holds unacknowledged (after `XAUTOCLAIM` has moved a dead owner's entries to it), then new
ones. Entries of one partition are processed one after another, so a chat's replies keep their
order; partitions run in parallel up to `scale.worker_concurrency` jobs at once. An entry is
acknowledged (and deleted) only after every part of its answer was posted.

A second lane per partition carries the answers to a tool server's question (`QueueKeys.answers`)
and is read the same way by a task of its own: the question's tool call holds the main lane
until it is answered, so the answer must not queue behind it. The answers lane stops only once
the main lane has, so a question in hand can still be answered while the partition is given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from orchestrator import metrics
from orchestrator.config import ScaleSettings
from orchestrator.queue.base import NoSender, ReplySender
from orchestrator.queue.delivery import Handle, answers, post
from orchestrator.queue.job import Job
from orchestrator.queue.keys import GROUP, QueueKeys
from orchestrator.queue.leases import Membership, PartitionLease
from orchestrator.queue.outbox import Outbox
from orchestrator.queue.producer import ensure_groups
from orchestrator.queue.reactions import AfterPost
from orchestrator.queue.working import typing_shown

log = logging.getLogger(__name__)

BATCH = 16
RETRY_PAUSE = 1.0


class LeaseLost(Exception):
    """Another worker may own this partition now: stop before posting anything more."""


def stream_entries(response: Any) -> list[tuple[bytes, dict[bytes, bytes] | None]]:
    """The entries of a one-stream XREADGROUP reply (RESP2 list or RESP3 map)."""
    if not response:
        return []
    if isinstance(response, dict):
        found = next(iter(response.values()))
        return list(found[0] if found and isinstance(found[0], list) else found)
    return list(response[0][1])


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass
class Held:
    lease: PartitionLease
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class Worker:
    def __init__(
        self,
        client: aioredis.Redis,
        keys: QueueKeys,
        settings: ScaleSettings,
        handle: Handle,
        senders: Mapping[str, ReplySender],
        outbox: Outbox,
        name: str | None = None,
        after_post: AfterPost | None = None,  # reactions (issue 31); never raises
    ) -> None:
        self.after_post = after_post
        self.client, self.keys, self.settings = client, keys, settings
        self.handle, self.senders, self.outbox = handle, senders, outbox
        self.name = name or worker_name()
        self.membership = Membership(client, keys, self.name, settings.lease_seconds)
        self.tick = settings.lease_seconds / 3
        self.done = 0
        self._slots = asyncio.Semaphore(settings.worker_concurrency)
        self._held: dict[int, Held] = {}
        self._attempts: dict[bytes, int] = {}
        self._lag_seen: set[str] = set()  # jobs whose wait was measured (bounded below)

    @property
    def partitions(self) -> list[int]:
        return sorted(p for p, h in self._held.items() if not h.stop.is_set())

    # -- life cycle -----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set; then finish the jobs in hand and give the leases back."""
        await ensure_groups(self.client, self.keys)
        log.info(
            "worker_started name=%s partitions=%d concurrency=%d",
            self.name,
            self.keys.partitions,
            self.settings.worker_concurrency,
        )
        try:
            while not stop.is_set():
                try:
                    await self.rebalance()
                except (OSError, aioredis.RedisError) as exc:
                    log.warning("worker_rebalance_failed error=%s", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.tick)
        finally:
            log.info("worker_stopping name=%s jobs_in_hand=%d", self.name, len(self._held))
            for held in self._held.values():
                held.stop.set()
            tasks = [h.task for h in self._held.values() if h.task is not None]
            await asyncio.gather(*tasks, return_exceptions=True)
            for held in self._held.values():
                await held.lease.release()
            with contextlib.suppress(OSError, aioredis.RedisError):
                await self.membership.leave()
            log.info("worker_stopped name=%s jobs=%d", self.name, self.done)

    async def rebalance(self) -> None:
        """Heartbeat, renew held leases, give back extras, take free partitions up to the share."""
        alive = await self.membership.beat()
        share = self.membership.share(alive)
        for partition, held in list(self._held.items()):
            if held.task is not None and held.task.done():
                await held.lease.release()
                del self._held[partition]
            elif not await held.lease.renew():
                log.warning("lease_lost worker=%s partition=%d", self.name, partition)
                held.stop.set()
        active = self.partitions
        for partition in active[share:]:
            log.info("partition_released worker=%s partition=%d", self.name, partition)
            self._held[partition].stop.set()
        if len(active) >= share:
            return
        wanted = share - len(active)
        for partition in self.membership.preference():
            if wanted == 0:
                break
            if partition in self._held:
                continue
            lease = PartitionLease(self.client, self.keys, partition, self.settings.lease_seconds)
            if await lease.acquire():
                held = Held(lease)
                held.task = asyncio.create_task(self._serve_partition(partition, held))
                self._held[partition] = held
                wanted -= 1
                log.info("partition_taken worker=%s partition=%d", self.name, partition)

    # -- one partition --------------------------------------------------------------------------
    async def _serve_partition(self, partition: int, held: Held) -> None:
        """Both lanes; the answers lane until the main lane ended (its job in hand may wait
        for an answer), and a failed lane ends the partition's whole task (retaken later)."""
        main_stream, answers_stream = self.keys.lanes(partition)
        main_done = asyncio.Event()

        async def main() -> None:
            try:
                await self._serve(partition, main_stream, held, held.stop)
            finally:
                main_done.set()

        async def answers() -> None:
            try:
                await self._serve(partition, answers_stream, held, main_done)
            finally:
                held.stop.set()

        await asyncio.gather(main(), answers())

    async def _serve(self, partition: int, stream: str, held: Held, stop: asyncio.Event) -> None:
        """Read one lane of the partition in order until `stop` is set."""
        try:
            await self._take_over(stream)
            pending = True
            while not stop.is_set():
                response = await self.client.xreadgroup(
                    GROUP,
                    self.name,
                    {stream: "0" if pending else ">"},
                    count=BATCH,
                    block=None if pending else self.settings.block_ms,
                )
                entries = stream_entries(response)
                if pending and not entries:
                    pending = False
                    continue
                for entry_id, fields in entries:
                    if stop.is_set():
                        break
                    if not await self._one(partition, stream, entry_id, fields, held):
                        pending = True
                        await asyncio.sleep(RETRY_PAUSE)
                        break
        except LeaseLost:
            log.warning("partition_abandoned worker=%s partition=%d", self.name, partition)
        except Exception:  # noqa: BLE001 - the lease frees the partition for the next tick
            log.exception(
                "partition_failed worker=%s partition=%d stream=%s", self.name, partition, stream
            )

    async def _take_over(self, stream: str) -> None:
        """Move every entry a previous owner left unacknowledged to this worker (we hold the
        lease, so nobody else is reading it)."""
        start: bytes | str = "0-0"
        moved = 0
        while True:
            result = await self.client.xautoclaim(
                stream, GROUP, self.name, min_idle_time=0, start_id=start, count=100
            )
            start, claimed = result[0], result[1]
            moved += len(claimed)
            if start in (b"0-0", "0-0"):
                break
        if moved:
            log.info("entries_claimed worker=%s stream=%s count=%d", self.name, stream, moved)

    async def _one(
        self,
        partition: int,
        stream: str,
        entry_id: bytes,
        fields: dict[bytes, bytes] | None,
        held: Held,
    ) -> bool:
        """Process one entry; False when it failed and should be retried."""
        raw = fields.get(b"job") if fields else None
        if raw is None:  # deleted entry still pending: nothing to do
            await self._ack(stream, entry_id)
            return True
        try:
            job = Job.from_json(raw)
        except (ValueError, KeyError, TypeError) as exc:
            await self._dead_letter(stream, entry_id, raw, f"bad job: {type(exc).__name__}")
            return True

        async def still_ours() -> None:
            if not await held.lease.renew():
                held.stop.set()
                raise LeaseLost

        # An answer skips the concurrency bound: the jobs holding every slot may be the very
        # tool calls waiting for it (and an answer is quick: no model, no tool).
        slot = contextlib.nullcontext() if job.answers_question else self._slots
        async with slot:
            if job.id not in self._lag_seen:  # a retried entry waited for its own reasons
                if len(self._lag_seen) > 10_000:
                    self._lag_seen.clear()
                self._lag_seen.add(job.id)
                metrics.queue_lag(partition, time.time() - job.enqueued_at)
            try:
                async with typing_shown(job, self.senders):  # issue 31
                    replies = await answers(job, self.handle, self.outbox)
                parts = await post(job, replies, self.senders, self.outbox, still_ours)
                if self.after_post is not None:
                    await self.after_post(job, replies)
            except LeaseLost:
                raise
            except NoSender as exc:
                await self._dead_letter(stream, entry_id, raw, f"no sender for {exc}")
                return True
            except Exception as exc:  # noqa: BLE001 - retried, then dead-lettered
                attempts = self._attempts.get(entry_id, 0) + 1
                self._attempts[entry_id] = attempts
                log.warning(
                    "job_failed job=%s attempt=%d error=%s", job.id, attempts, type(exc).__name__
                )
                if attempts >= self.settings.max_attempts:
                    await self._dead_letter(stream, entry_id, raw, type(exc).__name__)
                    return True
                return False
        await self._ack(stream, entry_id)
        self._attempts.pop(entry_id, None)
        self.done += 1
        log.info(
            "job_done job=%s partition=%d parts=%d total_ms=%d",
            job.id,
            partition,
            parts,
            (time.time() - job.enqueued_at) * 1000,
        )
        return True

    async def _ack(self, stream: str, entry_id: bytes) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            await pipe.execute()

    async def _dead_letter(self, stream: str, entry_id: bytes, raw: bytes, why: str) -> None:
        log.error("job_dead_lettered stream=%s entry=%s reason=%s", stream, entry_id, why)
        await self.client.xadd(
            self.keys.dead_letters, {"stream": stream, "entry": entry_id, "job": raw, "why": why}
        )
        await self._ack(stream, entry_id)
