"""An Embedder that loads the shared model on first use (commands never wait for it)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from orchestrator.embedding.base import Embedder
from orchestrator.embedding.minilm_torch import get_embedder


class LazyEmbedder:
    """Loads the shared model on first use, so commands never wait for torch to import."""

    dim = 384

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._inner: Embedder | None = None

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._inner is None:
            async with self._lock:
                if self._inner is None:
                    self._inner = await asyncio.to_thread(get_embedder)
        return await self._inner.embed(texts)
