"""The front end's side: queue a message (or a scheduled run) on its chat's partition stream.

The inbound dedupe key and the stream entry are written by one Lua script, so a platform that
delivers the same event twice (webhook retries, a polling replay) queues it once, and a crash
cannot leave a claimed key without its job. This script is the one inbound dedupe point: the
exactly-once delivery package replaces it, not the queue around it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from orchestrator import metrics
from orchestrator.messages import ChatMessage
from orchestrator.queue.job import Job, message_job
from orchestrator.queue.keys import GROUP, QueueKeys

log = logging.getLogger(__name__)

ENQUEUE_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  return redis.call('XADD', KEYS[2], '*', 'job', ARGV[1])
end
return false
"""


async def ensure_groups(client: aioredis.Redis, keys: QueueKeys) -> None:
    """Create every partition stream (both lanes) and its consumer group (from the first entry:
    nothing queued before the first worker started is skipped)."""
    for partition in range(keys.partitions):
        for stream in keys.lanes(partition):
            try:
                await client.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise


class RedisJobQueue:
    """`JobQueue` on Redis Streams: XADD to `prefix:q:in:<crc32(chat) % partitions>`, or to
    `prefix:q:answers:<same>` for an answer to a tool server's question (`QueueKeys.answers`)."""

    def __init__(self, client: aioredis.Redis, keys: QueueKeys, dedupe_ttl_seconds: int) -> None:
        self.client = client
        self.keys = keys
        self.ttl = dedupe_ttl_seconds
        self._script: Any = client.register_script(ENQUEUE_ONCE)
        self._ready = False
        self._setup = asyncio.Lock()
        # FIFO locks: messages of one partition are appended in the order the adapter handed
        # them over, even when it hands them over concurrently.
        self._order: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def enqueue(self, job: Job) -> bool:
        """Queue a job once per id; False for a duplicate."""
        partition = self.keys.partition_of(job.chat_key)
        lane = "answers" if job.answers_question else "main"
        stream = self.keys.answers(partition) if lane == "answers" else self.keys.stream(partition)
        async with self._order[partition]:
            if not self._ready:
                async with self._setup:
                    if not self._ready:
                        await ensure_groups(self.client, self.keys)
                        self._ready = True
            entry = await self._script(
                keys=[self.keys.inbound(job.id), stream],
                args=[job.to_json(), self.ttl],
            )
        if entry is None:
            log.info("duplicate_dropped platform=%s key=%s", job.message.platform, job.id)
            metrics.duplicate_dropped(job.message.platform)
            return False
        log.info(
            "job_enqueued job=%s chat=%s partition=%d lane=%s entry=%s",
            job.id,
            job.chat_key,
            partition,
            lane,
            entry.decode() if isinstance(entry, bytes) else entry,
        )
        return True

    async def enqueue_message(self, message: ChatMessage) -> bool:
        return await self.enqueue(message_job(message))

    async def close(self) -> None:
        await self.client.aclose()
