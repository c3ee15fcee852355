"""Micro-batching for an encoder: concurrent `embed` calls share one `encode` (batches run
several times faster per text on CPU than single encodes), which runs in a worker thread so
the event loop never blocks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import numpy as np

Encode = Callable[[Sequence[str]], np.ndarray]


class MicroBatcher:
    """Queues texts; whoever arrives while a batch is encoding joins the next batch."""

    def __init__(self, encode: Encode, dim: int, max_batch: int = 64) -> None:
        self._encode, self.dim, self.max_batch = encode, dim, max_batch
        self._pending: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        loop = asyncio.get_running_loop()
        futures = []
        for text in texts:
            future: asyncio.Future[np.ndarray] = loop.create_future()
            self._pending.append((text, future))
            futures.append(future)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        rows = await asyncio.gather(*futures)
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                vectors = await asyncio.to_thread(self._encode, [t for t, _ in batch])
            except Exception as exc:  # noqa: BLE001 - hand the failure to every waiter
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), row in zip(batch, vectors, strict=True):
                if not future.done():
                    future.set_result(row)
