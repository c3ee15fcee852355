"""Two encoders fused: one after the other in one worker thread, concurrent messages sharing one
batch of each; the vector is each encoder's unit vector, scaled so the whole is unit length."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np

from orchestrator.embedding.fused import FusedEmbedder, first_block


class _Encoder:
    """A blocking encoder with fixed vectors; records each batch and the thread it ran in."""

    def __init__(self, dim: int, seed: int) -> None:
        self.dim, self.seed = dim, seed
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()

    def vector(self, text: str) -> np.ndarray:
        rng = np.random.default_rng([self.seed, len(text)])
        row = rng.normal(size=self.dim).astype(np.float32)
        return row / np.linalg.norm(row)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        self.threads.add(threading.get_ident())
        return np.stack([self.vector(t) for t in texts])

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


async def test_concurrent_messages_share_one_batch_of_each_encoder_in_one_thread() -> None:
    first, second = _Encoder(4, 1), _Encoder(6, 2)
    fused = FusedEmbedder(first, second)
    texts = [["a", "bb"], ["ccc"], ["dddd", "eeeee"]]
    results = await asyncio.gather(*(fused.embed(t) for t in texts))
    assert first.batches == second.batches == [["a", "bb", "ccc", "dddd", "eeeee"]]
    assert first.threads == second.threads  # one after the other, in one worker thread
    row = results[2][1]  # "eeeee"
    assert row.shape == (10,) and np.isclose(np.linalg.norm(row), 1.0)
    np.testing.assert_allclose(first_block(row, fused), first.vector("eeeee"), atol=1e-6)
    np.testing.assert_allclose(row[4:] * np.sqrt(2), second.vector("eeeee"), atol=1e-6)


async def test_encoders_without_a_blocking_encode_are_awaited_side_by_side() -> None:
    class _AsyncOnly:
        def __init__(self, inner: _Encoder) -> None:
            self.inner, self.dim = inner, inner.dim

        async def embed(self, texts: Sequence[str]) -> np.ndarray:
            return self.inner.encode(texts)

    fused = FusedEmbedder(_AsyncOnly(_Encoder(4, 1)), _AsyncOnly(_Encoder(6, 2)))
    assert (await fused.embed(["a", "bb"])).shape == (2, 10)
