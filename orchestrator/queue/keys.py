"""Redis key names of the queue, and the stable chat -> partition hash.

The hash is crc32 (Python's `hash()` differs per process). Changing `scale.partitions` while
jobs are queued moves chats between streams, so change it only when the queue is drained.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

GROUP = "workers"


@dataclass(frozen=True, slots=True)
class QueueKeys:
    prefix: str  # e.g. "orch" -> "orch:q:in:3"
    partitions: int

    def partition_of(self, chat_key: str) -> int:
        return zlib.crc32(chat_key.encode()) % self.partitions

    def stream(self, partition: int) -> str:
        return f"{self.prefix}:q:in:{partition}"

    def answers(self, partition: int) -> str:
        """The partition's second lane: answers to a tool server's question. The question's
        tool call holds the partition's main lane until it is answered, so answers cannot
        wait behind it; the worker holding the lease reads this lane beside the main one."""
        return f"{self.prefix}:q:answers:{partition}"

    def lanes(self, partition: int) -> tuple[str, str]:
        return self.stream(partition), self.answers(partition)

    def lease(self, partition: int) -> str:
        return f"{self.prefix}:q:lease:{partition}"

    @property
    def workers(self) -> str:
        """Sorted set: worker name -> last heartbeat (epoch seconds)."""
        return f"{self.prefix}:q:workers"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}:q:dead"

    def inbound(self, job_id: str) -> str:
        return f"{self.prefix}:q:seen:{job_id}"

    def result(self, job_id: str) -> str:
        return f"{self.prefix}:q:result:{job_id}"

    def part(self, job_id: str, index: int) -> str:
        return f"{self.prefix}:q:sent:{job_id}:{index}"

    @property
    def unconfirmed(self) -> str:
        """Stream of parts whose delivery nobody can confirm (a worker died mid-send)."""
        return f"{self.prefix}:q:unconfirmed"
