"""The tool index: one vector per tool from two embedded views, BM25, and server groups.

Each tool is embedded twice, as "name: description" and as server, name, description and
parameters; its vector is the normalised sum of the two (the short view keeps a long schema
from drowning the tool's purpose, the rich one adds the parameters' words). Views are cached by
tool key and a hash of the tool's text, so a refresh after a catalogue change embeds only the
tools that are new or whose description or schema changed.

For ranking, the vectors are centred on the catalogue's mean and re-normalised: every tool
description shares a "this is a software tool" direction, and taking it out lets the words that
tell tools apart decide (a common fix for the anisotropy of sentence embeddings). Small
catalogues are left as they are, since their mean is mostly the tools themselves.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np

from orchestrator.embedding.base import Embedder
from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.lexical import LexicalIndex
from orchestrator.routing.text import name_text, tool_text

log = logging.getLogger(__name__)

CENTRE_MIN_TOOLS = 20


def _digest(*texts: str) -> str:
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:32]


class ToolIndex:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.dim = int(getattr(embedder, "dim", 384))
        self.tools: list[ToolSpec] = []
        self.vectors = np.zeros((0, self.dim), dtype=np.float32)  # plain, unit length
        # The centred vectors, transposed for one product, and what turns a centred score back
        # into a plain cosine (each centred row's norm, and the mean).
        self._ranked_t = np.zeros((self.dim, 0), dtype=np.float32)
        self._norms = np.zeros(0, dtype=np.float32)
        self._mean = np.zeros(self.dim, dtype=np.float32)
        self.position: dict[str, int] = {}
        self.lexical = LexicalIndex([])
        self.server_ids = np.zeros(0, dtype=np.intp)
        self.server_count = 0
        self.encoded = 0  # tools embedded so far (the refresh tests count these)
        self._cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    async def refresh(self, tools: Sequence[ToolSpec]) -> None:
        views = [(name_text(t), tool_text(t)) for t in tools]
        keys = [(t.key, _digest(*v)) for t, v in zip(tools, views, strict=True)]
        missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            texts = [text for i in missing for text in views[i]]
            vectors = np.asarray(await self.embedder.embed(texts), dtype=np.float32)
            for n, i in enumerate(missing):
                self._cache[keys[i]] = (vectors[2 * n], vectors[2 * n + 1])
            self.encoded += len(missing)
        self._cache = {k: self._cache[k] for k in keys}
        self.tools = list(tools)
        self.vectors = _combined([self._cache[k] for k in keys], self.dim)
        ranked, self._mean, self._norms = _centred(self.vectors)
        self._ranked_t = np.ascontiguousarray(ranked.T)
        self.position = {t.key: i for i, t in enumerate(tools)}
        self.lexical = LexicalIndex([rich for _, rich in views])
        servers: dict[str, int] = {}
        self.server_ids = np.array(
            [servers.setdefault(t.server, len(servers)) for t in tools], dtype=np.intp
        )
        self.server_count = len(servers)
        log.info("tool_index_refreshed tools=%d embedded=%d", len(tools), len(missing))

    def similarity(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ranking similarity, plain cosine) of each query row with each tool. One product
        with the centred vectors gives both, since q.t = q.(t - mean) + q.mean
        = centred_score * |t - mean| + q.mean: reading the catalogue from memory once is what
        routing over a thousand tools costs."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        ranked = vectors @ self._ranked_t
        plain = ranked * self._norms + (vectors @ self._mean)[:, None]
        return ranked, plain

    def ranked_similarity(self, vectors: np.ndarray) -> np.ndarray:
        """The ranking similarity alone (for query rows already mapped by the adapter)."""
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32)) @ self._ranked_t

    def server_rank(self, scores: np.ndarray) -> np.ndarray:
        """Each tool's rank within its own server by `scores` (0 for each server's best)."""
        order = np.argsort(-scores, kind="stable")
        servers = self.server_ids[order]
        grouped = np.lexsort((np.arange(len(order)), servers))
        sorted_servers = servers[grouped]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_servers)) + 1]
        counts = np.diff(np.r_[starts, len(order)])
        within = np.arange(len(order)) - np.repeat(starts, counts)
        rank = np.empty(len(order), dtype=np.float32)
        rank[order[grouped]] = within
        return rank

    def server_max(self, scores: np.ndarray) -> np.ndarray:
        """Each tool's server's best score, per tool."""
        best = np.full(self.server_count, -np.inf, dtype=np.float32)
        np.maximum.at(best, self.server_ids, scores)
        return best[self.server_ids]


def _combined(views: list[tuple[np.ndarray, np.ndarray]], dim: int) -> np.ndarray:
    """Each tool's two views summed and normalised to unit length."""
    if not views:
        return np.zeros((0, dim), dtype=np.float32)
    summed = np.stack([short + rich for short, rich in views]).astype(np.float32)
    return summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-6)


def _centred(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows minus their mean and re-normalised, the mean, each centred row's norm); rows are
    left as they are (mean 0, norms 1) under `CENTRE_MIN_TOOLS` of them."""
    if len(rows) < CENTRE_MIN_TOOLS:
        return rows, np.zeros(rows.shape[1], np.float32), np.ones(len(rows), np.float32)
    mean = rows.mean(axis=0)
    centred = rows - mean
    norms = np.maximum(np.linalg.norm(centred, axis=1), 1e-6)
    return (
        (centred / norms[:, None]).astype(np.float32),
        mean.astype(np.float32),
        norms.astype(np.float32),
    )
