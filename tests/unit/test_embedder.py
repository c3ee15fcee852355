"""The shared MiniLM embedder: unit vectors, one instance, micro-batching, a free event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from orchestrator.embedding.batching import MicroBatcher
from orchestrator.embedding.minilm_torch import SentenceEmbedder, get_embedder


class CountingEmbedder(SentenceEmbedder):
    """The real embedder (same loaded model), counting how many encode calls it makes."""

    def __init__(self, shared: SentenceEmbedder) -> None:  # no second model load
        self.__dict__.update(shared.__dict__)
        self._batcher = MicroBatcher(self.encode, self.dim, self.max_batch)  # counts encodes
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.calls.append(len(texts))
        return super().encode(texts, batch_size)


def test_one_embedder_per_process(embedder: SentenceEmbedder) -> None:
    assert get_embedder() is embedder
    assert embedder.dim == 384


def test_vectors_are_unit_length_float32_rows(embedder: SentenceEmbedder) -> None:
    vectors = embedder.encode(["create a task", "what time is it in Tokyo"])
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


async def test_async_embed_matches_encode(embedder: SentenceEmbedder) -> None:
    texts = ["list unpaid invoices", "post to the team channel"]
    vectors = await embedder.embed(texts)
    np.testing.assert_allclose(vectors, embedder.encode(texts), atol=1e-5)
    related, unrelated = embedder.encode(["show overdue invoices", "draw a cat"])
    assert vectors[0] @ related > vectors[0] @ unrelated


async def test_concurrent_requests_share_one_encode_call(embedder: SentenceEmbedder) -> None:
    counting = CountingEmbedder(embedder)
    texts = [f"request number {i} about invoices" for i in range(12)]
    results = await asyncio.gather(*(counting.embed([t]) for t in texts))
    assert len(counting.calls) < len(texts)  # batched, not one encode per request
    assert sum(counting.calls) == len(texts)
    np.testing.assert_allclose(np.vstack(results), embedder.encode(texts), atol=1e-5)


async def test_encoding_leaves_the_event_loop_free(embedder: SentenceEmbedder) -> None:
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await embedder.embed([f"a longer sentence to encode, number {i}" for i in range(256)])
    ticks_during = ticks
    done.set()
    await task
    # Encoding 256 texts on the loop would allow a tick or two (at the awaits around it); off
    # the loop, the ticker keeps running throughout.
    assert ticks_during > 100, ticks_during
