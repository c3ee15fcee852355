"""An Embedder that loads the shared model(s) off the event loop, once, on first use (the core
warms it at start-up, while the MCP servers start)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from orchestrator.embedding.base import Embedder
from orchestrator.embedding.onnx_minilm import DIM as MINILM_DIM
from orchestrator.embedding.onnx_minilm import get_onnx_embedder


class LazyEmbedder:
    """MiniLM on ONNX Runtime (no torch at run time; bench/results/startup.md), loaded once.

    `multilingual=True` (semantic routing): MiniLM fused with USE-multilingual v3
    (`FusedEmbedder`): both load at once, in two threads, and each encodes every text once."""

    def __init__(self, multilingual: bool = False) -> None:
        self._lock = asyncio.Lock()
        self._inner: Embedder | None = None
        self.multilingual = multilingual
        if multilingual:
            from orchestrator.embedding.multilingual import DIM as USE_DIM

            self.blocks: tuple[int, ...] = (MINILM_DIM, USE_DIM)
        else:
            self.blocks = (MINILM_DIM,)
        self.dim = sum(self.blocks)

    async def _load(self) -> Embedder:
        if not self.multilingual:
            return await asyncio.to_thread(get_onnx_embedder)
        from orchestrator.embedding.fused import FusedEmbedder
        from orchestrator.embedding.multilingual import get_use_embedder

        minilm, use = await asyncio.gather(
            asyncio.to_thread(get_onnx_embedder), asyncio.to_thread(get_use_embedder)
        )
        return FusedEmbedder(minilm, use)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._inner is None:
            async with self._lock:
                if self._inner is None:
                    self._inner = await self._load()
        return await self._inner.embed(texts)
