"""An Embedder that loads the shared model off the event loop, once, on first use (the core
warms it at start-up, while the MCP servers start)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from orchestrator.embedding.base import Embedder
from orchestrator.embedding.onnx_minilm import get_onnx_embedder


class LazyEmbedder:
    """MiniLM on ONNX Runtime (no torch at run time; bench/results/startup.md), loaded once."""

    dim = 384

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._inner: Embedder | None = None

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._inner is None:
            async with self._lock:
                if self._inner is None:
                    self._inner = await asyncio.to_thread(get_onnx_embedder)
        return await self._inner.embed(texts)
