"""Two encoders as one `Embedder`: each text is encoded once by each, and its vector is the two
unit vectors side by side, each scaled by 1/sqrt(2) (so the whole is unit length too).

`blocks` says where each encoder's part lies, so the tool index can score each part on its own
and fuse the scores (orchestrator/routing/index.py), and memory can keep using the first
encoder's part alone (`first_block`): its stored vectors do not change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import numpy as np

from orchestrator.embedding.base import Embedder
from orchestrator.embedding.batching import MicroBatcher


class FusedEmbedder:
    """Both encoders, one after the other in one worker thread, over one micro-batch.

    Not side by side in two threads: on two cores ONNX Runtime's two intra-op threads wait at
    every layer for whichever the third (numpy) thread preempted, so the message waited for
    the slower of two slowed encodes. Measured on the shared 2-core machine, a MetaTool
    message with its steps: p50 25-34 ms side by side, 16 ms one after the other; and
    concurrent messages now share one batch of each encoder (`MicroBatcher`)."""

    def __init__(self, first: Embedder, second: Embedder, max_batch: int = 64) -> None:
        self.first, self.second = first, second
        self.blocks: tuple[int, ...] = (int(first.dim), int(second.dim))
        self.dim = sum(self.blocks)
        blocking = [getattr(e, "encode", None) for e in (first, second)]
        self._encoders: list[Callable[[Sequence[str]], np.ndarray]] | None = (
            blocking if all(callable(f) for f in blocking) else None  # type: ignore[assignment]
        )
        self._batcher = MicroBatcher(self.encode, self.dim, max_batch)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Blocking: each encoder's pass over `texts`, fused. Call it from a worker thread."""
        assert self._encoders is not None
        return fuse([np.asarray(f(texts), np.float32) for f in self._encoders])

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoders is not None:
            return await self._batcher.embed(texts)
        a, b = await asyncio.gather(self.first.embed(texts), self.second.embed(texts))
        return fuse([np.asarray(a, np.float32), np.asarray(b, np.float32)])


def fuse(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Rows of each part normalised, scaled by 1/sqrt(len(parts)) and concatenated."""
    scale = 1.0 / np.sqrt(len(parts))
    rows = [np.atleast_2d(p) for p in parts]
    unit = [r / np.maximum(np.linalg.norm(r, axis=-1, keepdims=True), 1e-12) for r in rows]
    return (np.concatenate(unit, axis=-1) * scale).astype(np.float32)


def block_slices(blocks: Sequence[int]) -> list[slice]:
    out, start = [], 0
    for size in blocks:
        out.append(slice(start, start + size))
        start += size
    return out


def first_block(vectors: np.ndarray, embedder: object) -> np.ndarray:
    """The first encoder's part of fused vectors, unit length (the vectors as they are when
    `embedder` is a single encoder)."""
    blocks = getattr(embedder, "blocks", None)
    if not blocks or len(blocks) < 2:
        return vectors
    part = np.asarray(vectors, np.float32)[..., : blocks[0]]
    return part / np.maximum(np.linalg.norm(part, axis=-1, keepdims=True), 1e-12)
