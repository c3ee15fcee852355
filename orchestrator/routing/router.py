"""The router: MiniLM cosine against each tool's vector, fused with stemmed BM25, per-step
matching of multi-step requests, a pull towards the best-matching server, and the vote of the
chat's earlier successful requests.

The message is embedded once by the caller; routing itself is one matrix product (the message
and its steps against the catalogue) and one batched BM25 look-up: about half a millisecond for
a thousand tools (bench/results/routing.md).

Scores (all weights are fixed, none is learned from any benchmark):
  message  = cosine(message, tool) + LEXICAL_WEIGHT * bm25(message, tool)
  steps    = max over the request's steps of the same (cosine only when step vectors are given)
  fused    = message + PART_WEIGHT * steps + SERVER_WEIGHT * best fused score of the tool's server
  + EXPERIENCE_WEIGHT * similarity, for each tool an earlier successful request of this chat
    used, per such request (recalled from long-term memory: a similarity-weighted vote).
Cosines for ranking are taken against the centred catalogue (see `ToolIndex`); the confidence
threshold applies to the best plain cosine (message, step, or an earlier request that used the
tool), so its meaning does not depend on the fusion weights or on the rest of the catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from orchestrator.embedding.base import Embedder
from orchestrator.mcp.tools import ToolSpec
from orchestrator.routing.base import PastUse, RoutedTool
from orchestrator.routing.index import ToolIndex
from orchestrator.routing.text import plain_request, request_parts

log = logging.getLogger(__name__)

LEXICAL_WEIGHT = 0.15
PART_WEIGHT = 1.0
SERVER_WEIGHT = 0.2
EXPERIENCE_WEIGHT = 0.4
MIN_TOOLS = 3


class ToolRouter:
    def __init__(self, embedder: Embedder, top_k: int = 8, threshold: float = 0.3) -> None:
        self.embedder = embedder
        self.top_k = top_k
        self.threshold = threshold
        self.index = ToolIndex(embedder)

    @property
    def tools(self) -> list[ToolSpec]:
        return self.index.tools

    @property
    def encoded(self) -> int:
        return self.index.encoded

    async def refresh(self, tools: Sequence[ToolSpec]) -> None:
        """Rebuild the index; only new or changed tools are embedded again."""
        await self.index.refresh(tools)

    async def request_vectors(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """The message's vector and its steps' vectors, from one (micro-batched) embed call."""
        parts = request_parts(query)
        vectors = np.asarray(await self.embedder.embed([query, *parts]), dtype=np.float32)
        return vectors[0], vectors[1:]

    def scores(
        self, query: str, vector: np.ndarray, part_vectors: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(fused score, best plain cosine) for every indexed tool."""
        index = self.index
        parts = request_parts(query)
        stepped = part_vectors is not None and len(parts) > 0 and len(part_vectors) == len(parts)
        rows = np.vstack([vector, part_vectors]) if stepped else vector  # type: ignore[list-item]
        ranked, cosine = index.similarity(rows)
        lexical = index.lexical.scores_many([plain_request(query), *parts])
        fused = ranked[0] + LEXICAL_WEIGHT * lexical[0]
        confidence = cosine.max(axis=0)
        if parts:
            steps = LEXICAL_WEIGHT * lexical[1:]
            if stepped:
                steps = steps + ranked[1:]
            fused = fused + PART_WEIGHT * steps.max(axis=0)
        if index.server_count > 1:
            fused = fused + SERVER_WEIGHT * index.server_max(fused)
        return fused, confidence

    def route(
        self,
        query: str,
        vector: np.ndarray,
        *,
        allowed: Callable[[ToolSpec], bool] | None = None,
        top_k: int | None = None,
        past: Sequence[PastUse] = (),
        part_vectors: np.ndarray | None = None,
    ) -> list[RoutedTool]:
        """Top-k allowed tools, best first.

        Tools whose best cosine is under the threshold are dropped, but never all of them: the
        best `MIN_TOOLS` stay, so the model always has something to try (and the search_tools
        meta-tool for the rest).
        """
        if not self.tools:
            return []
        fused, confidence = self.scores(query, vector, part_vectors)
        if past:
            votes, closest = self.experience(past)
            fused = fused + EXPERIENCE_WEIGHT * votes
            confidence = np.maximum(confidence, closest)
        return self._pick(fused, confidence, allowed, top_k or self.top_k)

    def _pick(
        self,
        fused: np.ndarray,
        confidence: np.ndarray,
        allowed: Callable[[ToolSpec], bool] | None,
        k: int,
    ) -> list[RoutedTool]:
        """The best `MIN_TOOLS` allowed tools whatever their confidence, then the next allowed
        ones at or above the threshold, up to k (numpy does the skipping of weak tools)."""
        order = np.argsort(-fused, kind="stable")
        tools, floor = self.tools, min(MIN_TOOLS, k)
        picked: list[RoutedTool] = []
        rest = order[:0]
        for n, i in enumerate(order):
            if len(picked) >= floor:
                rest = order[n:]
                break
            if allowed is None or allowed(tools[i]):
                picked.append(RoutedTool(tools[i], float(fused[i])))
        for i in rest[confidence[rest] >= self.threshold]:
            if len(picked) >= k:
                break
            if allowed is None or allowed(tools[i]):
                picked.append(RoutedTool(tools[i], float(fused[i])))
        return picked

    def experience(self, past: Sequence[PastUse]) -> tuple[np.ndarray, np.ndarray]:
        """The vote of earlier successful requests, per tool: the sum of their similarities to
        this request (so a tool that similar requests kept using rises, however its description
        is worded), and the closest one's similarity (a cosine too, so it counts towards the
        confidence threshold: a tool that served a request like this one is not weak)."""
        votes = np.zeros(len(self.tools), dtype=np.float32)
        closest = np.full(len(self.tools), -1.0, dtype=np.float32)
        for use in past:
            row = self.index.position.get(use.tool_key)
            if row is not None and use.similarity > 0:
                votes[row] += use.similarity
                closest[row] = max(closest[row], use.similarity)
        return votes, closest

    async def route_text(self, query: str, **kwargs: object) -> list[RoutedTool]:
        """Embed the request (message and steps in one call), then route it."""
        vector, parts = await self.request_vectors(query)
        return self.route(query, vector, part_vectors=parts, **kwargs)  # type: ignore[arg-type]
