"""Memory writes off the reply path: `remember` returns at once, a background task writes.

A Chroma upsert costs 35-55 ms on this machine whatever its size (a commit per call; 128
memories in one call take about 155 ms), four times the embedding a message needs. Writing
each interaction before the reply made every answer wait for it. Here the reply goes out
first; one writer task lets memories gather for `linger_seconds`, then writes everything
waiting in one `remember_many` call (one upsert per chat).

Nothing waiting is invisible: `recall` merges the waiting memories of the chat (exact cosine
against the same threshold), and `recent`, the forget commands and `prune` write first. What
a kill -9 can lose is the memories of the last write in flight (milliseconds of them), never a
reply or a session turn (at most `linger_seconds` plus one write of them). `close` writes
what is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from orchestrator.memory.base import Memory

log = logging.getLogger(__name__)

MAX_WAITING = 10_000  # a store that keeps failing does not grow memory without bound
RETRY_SECONDS = 2.0
# How long the writer lets memories gather before a write. A Chroma write costs 10-25 ms of CPU
# per chat whatever its size, so one write a second instead of one a message keeps that CPU for
# the embeddings; a kill -9 can lose at most this much of the newest memories.
LINGER_SECONDS = 0.5


class BatchMemoryStore(Protocol):
    """A MemoryStore that can also write many memories in one call."""

    settings: Any

    async def recall(self, chat_key: str, vector: np.ndarray, k: int = 5) -> list[Memory]: ...

    async def remember_many(self, items: Sequence[tuple[Memory, np.ndarray]]) -> None: ...

    async def recent(self, chat_key: str, offset: int = 0, limit: int = 10) -> list[Memory]: ...

    async def forget_chat(self, chat_key: str) -> int: ...

    async def forget_last(self, chat_key: str, user_id: str) -> int: ...

    async def prune(self) -> int: ...

    async def close(self) -> None: ...


class WriteBehindMemory:
    """Implements MemoryStore over a `BatchMemoryStore`, writing in the background."""

    def __init__(self, store: BatchMemoryStore, linger_seconds: float = LINGER_SECONDS) -> None:
        self.store = store
        self.linger_seconds = linger_seconds
        self._waiting: list[tuple[Memory, np.ndarray]] = []
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None

    @property
    def settings(self) -> Any:
        return self.store.settings

    @settings.setter
    def settings(self, value: Any) -> None:  # /reload changes thresholds and retention live
        self.store.settings = value

    # -- writes ---------------------------------------------------------------------------------
    async def remember(self, memory: Memory, vector: np.ndarray) -> None:
        if len(self._waiting) >= MAX_WAITING:
            dropped, _ = self._waiting.pop(0)
            log.warning("memory_dropped chat=%s reason=store_failing", dropped.chat_key)
        self._waiting.append((memory, np.asarray(vector, dtype=np.float32)))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever())
        self._wake.set()

    async def flush(self) -> None:
        """Write everything waiting now (one batch); raises what the store raised."""
        async with self._writing:
            batch = list(self._waiting)
            if not batch:
                return
            await self.store.remember_many(batch)
            del self._waiting[: len(batch)]  # only this lock's holder removes items
            log.debug("memory_written count=%d", len(batch))

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.linger_seconds)
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:  # noqa: BLE001 - kept and retried; replies never wait
                self._failed(exc, "write")
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        try:
            await self.flush()
        except Exception as exc:  # noqa: BLE001 - shutting down: say what is lost
            self._failed(exc, "close")
        await self.store.close()

    # -- reads ----------------------------------------------------------------------------------
    async def recall(self, chat_key: str, vector: np.ndarray, k: int = 5) -> list[Memory]:
        stored = await self.store.recall(chat_key, vector, k)
        waiting = self._waiting_matches(chat_key, vector)
        if not waiting:
            return stored
        newer = {m.request for m in waiting}
        merged = waiting + [m for m in stored if m.request not in newer]
        return sorted(merged, key=lambda m: m.score, reverse=True)[:k]

    def _waiting_matches(self, chat_key: str, vector: np.ndarray) -> list[Memory]:
        mine = [(m, v) for m, v in self._waiting if m.chat_key == chat_key]
        if not mine:
            return []
        scores = np.stack([v for _, v in mine]) @ np.asarray(vector, dtype=np.float32)
        threshold = self.store.settings.relevance_threshold
        out: dict[str, Memory] = {}  # the newest of equal requests wins, as in the store
        for (memory, _), score in zip(mine, scores, strict=True):
            if score >= threshold:
                out[memory.request] = replace(memory, score=float(score))
        return list(out.values())

    async def recent(self, chat_key: str, offset: int = 0, limit: int = 10) -> list[Memory]:
        await self._settle()
        return await self.store.recent(chat_key, offset, limit)

    async def forget_chat(self, chat_key: str) -> int:
        await self._settle()
        return await self.store.forget_chat(chat_key)

    async def forget_last(self, chat_key: str, user_id: str) -> int:
        await self._settle()
        return await self.store.forget_last(chat_key, user_id)

    async def prune(self) -> int:
        await self._settle()
        return await self.store.prune()

    async def _settle(self) -> None:
        """Write first, so commands see (and forget) every memory; a failing store still
        answers with what it holds."""
        try:
            await self.flush()
        except Exception as exc:  # noqa: BLE001
            self._failed(exc, "settle")

    def _failed(self, exc: Exception, at: str) -> None:
        log.warning(
            "memory_store_failed at=%s waiting=%d error=%s",
            at,
            len(self._waiting),
            type(exc).__name__,
        )
