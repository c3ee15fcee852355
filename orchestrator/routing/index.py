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

Two encoders (`FusedEmbedder`: MiniLM and USE-multilingual side by side, `embedder.blocks`):
each part is centred and scored on its own, each part's scores are z-scored over the catalogue
(per request), summed (the second weighted by the request's language: see
`orchestrator.routing.language`), and put back on the first encoder's scale (its mean and
spread for this request), so the router's fixed weights and calibrated margin keep their
meaning. The plain cosine (the legacy threshold's confidence) stays the first encoder's.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from orchestrator.embedding.base import Embedder
from orchestrator.embedding.fused import block_slices
from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.lexical import LexicalIndex
from orchestrator.routing.product import product
from orchestrator.routing.text import name_text, tool_text

log = logging.getLogger(__name__)

CENTRE_MIN_TOOLS = 20
SECOND_WEIGHT = 1.0  # by default the second encoder's z-scores count as much as the first's


@dataclass(frozen=True, slots=True)
class Block:
    """One encoder's part of the tool vectors, centred for one product (see `_centred`)."""

    where: slice
    ranked_t: np.ndarray  # centred, unit rows, transposed
    norms: np.ndarray  # each centred row's norm
    mean: np.ndarray


def _digest(*texts: str) -> str:
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:32]


class ToolIndex:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.dim = int(getattr(embedder, "dim", 384))
        self.tools: list[ToolSpec] = []
        self.vectors = np.zeros((0, self.dim), dtype=np.float32)  # plain, unit length
        self.slices = block_slices(tuple(getattr(embedder, "blocks", None) or (self.dim,)))
        self.blocks: list[Block] = []
        self.position: dict[str, int] = {}
        self.lexical = LexicalIndex([])
        self.server_ids = np.zeros(0, dtype=np.intp)
        self.server_count = 0
        self._by_server = np.zeros(0, dtype=np.intp)
        self._server_starts = np.zeros(0, dtype=np.intp)
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
        self.blocks = []
        for where in self.slices:
            ranked, mean, norms = _centred(_unit(self.vectors[:, where]))
            self.blocks.append(Block(where, np.ascontiguousarray(ranked.T), norms, mean))
        self.position = {t.key: i for i, t in enumerate(tools)}
        self.lexical = LexicalIndex([rich for _, rich in views])
        servers: dict[str, int] = {}
        self.server_ids = np.array(
            [servers.setdefault(t.server, len(servers)) for t in tools], dtype=np.intp
        )
        self.server_count = len(servers)
        self._by_server = np.argsort(self.server_ids, kind="stable")  # tools grouped by server
        counts = np.bincount(self.server_ids, minlength=len(servers))
        self._server_starts = np.cumsum(counts) - counts  # each group's first position
        log.info("tool_index_refreshed tools=%d embedded=%d", len(tools), len(missing))

    def ranked(
        self,
        vectors: np.ndarray,
        adapt: Callable[[np.ndarray], np.ndarray] | None = None,
        *,
        second: float = SECOND_WEIGHT,
    ) -> np.ndarray:
        """The ranking similarity alone: with an adapter, the plain cosine is one more product
        of the first encoder's rows, which only the legacy threshold reads."""
        if adapt is None:
            return self.similarity(vectors, second=second)[0]
        return self.similarity(vectors, adapt, plain=False, second=second)[0]

    def similarity(
        self,
        vectors: np.ndarray,
        adapt: Callable[[np.ndarray], np.ndarray] | None = None,
        *,
        plain: bool = True,
        second: float = SECOND_WEIGHT,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ranking similarity, plain cosine) of each query row with each tool; `adapt` maps
        the first encoder's part of the rows before ranking (the learned query adapter).

        One product per encoder with its centred vectors gives both, since
        q.t = q.(t - mean) + q.mean = centred_score * |t - mean| + q.mean: reading the
        catalogue from memory once is what routing over a thousand tools costs. `plain=False`
        (with `adapt`): the plain cosine is left at zeros, its product skipped. `second`: how
        much the second encoder's z-scores count against the first's."""
        rows = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        fused = len(self.blocks) > 1
        scores: list[np.ndarray] = []
        cosine: np.ndarray | None = None
        for n, block in enumerate(self.blocks):
            part = rows[:, block.where] if fused else rows
            if n > 0:
                # Only this part's z-scores count (`_fused`): its rows' length does not matter.
                scores.append(product(part, block.ranked_t))
                continue
            if adapt is not None and not plain:
                # The adapter re-normalises what it maps: its rows' length does not matter.
                scores.append(product(adapt(part), block.ranked_t))
                continue
            query = _unit(part) if fused else part
            if adapt is not None:
                # The plain and the adapted rows in one product: the catalogue is read once.
                both = product(np.vstack([query, adapt(query)]), block.ranked_t)
                centred, ranked = both[: len(query)], both[len(query) :]
            else:
                ranked = centred = product(query, block.ranked_t)
            cosine = centred * block.norms + (query @ block.mean)[:, None]
            scores.append(ranked)
        if cosine is None:
            cosine = np.zeros((len(rows), len(self.tools)), dtype=np.float32)
        if len(scores) == 1:
            return scores[0], cosine
        return _fused(scores, second), cosine

    def server_rank(self, scores: np.ndarray) -> np.ndarray:
        """Each tool's rank within its own server by `scores` (0 for each server's best; ties
        by catalogue order). One sort: by server, then by score, as one float64 key."""
        scores = np.asarray(scores, dtype=np.float64)
        top, span = scores.max(), float(np.ptp(scores)) + 1.0
        order = np.argsort(self.server_ids * span + (top - scores), kind="stable")
        rank = np.empty(len(order), dtype=np.float32)
        rank[order] = np.arange(len(order)) - self._server_starts[self.server_ids[order]]
        return rank

    def server_max(self, scores: np.ndarray) -> np.ndarray:
        """Each tool's server's best score, per tool."""
        best = np.maximum.reduceat(scores[self._by_server], self._server_starts)
        return best[self.server_ids]


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


def _zscores(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows z-scored along each row, each row's mean, each row's spread), float32, in one
    pass over the centred rows (no float64 temporaries as `ndarray.std` makes)."""
    size = rows.shape[1]
    mean = np.add.reduce(rows, axis=1, dtype=np.float32, keepdims=True)
    mean /= size
    centred = rows - mean
    spread = np.einsum("ij,ij->i", centred, centred)[:, None]
    spread /= size
    np.sqrt(spread, out=spread)
    np.maximum(spread, np.float32(1e-6), out=spread)
    centred /= spread
    return centred, mean, spread


def _fused(scores: Sequence[np.ndarray], second: float = SECOND_WEIGHT) -> np.ndarray:
    """Each encoder's scores z-scored per request and summed (the second ones weighted by
    `second`), then given the first encoder's mean and spread back. Every part's rows
    are z-scored in one pass (the calls, not the arithmetic, are what a request costs)."""
    count = len(scores[0])
    every, means, spreads = _zscores(np.concatenate(scores))
    total = every[:count]
    for n in range(1, len(scores)):
        other = every[n * count : (n + 1) * count]
        total += other if second == 1.0 else second * other
    fused = _zscores(total)[0]
    fused *= spreads[:count]
    fused += means[:count]
    return fused


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
