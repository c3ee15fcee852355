"""The router: MiniLM cosine over two views of each tool, fused with stemmed BM25, per-step
matching of multi-step requests, a pull towards the best-matching server, and chat hints.

The message is embedded once by the caller; routing itself is a few matrix-vector products and
sparse BM25 look-ups, well under a couple of milliseconds for a thousand tools.

Scores (all weights are fixed, none is learned from any benchmark):
  message  = cosine(message, tool) + LEXICAL_WEIGHT * bm25(message, tool)
  steps    = max over the request's steps of the same (cosine only when step vectors are given)
  fused    = message + PART_WEIGHT * steps + SERVER_WEIGHT * best fused score of the tool's server
  + HINT_BOOST for tools this chat used in earlier successful requests.
The confidence threshold applies to the best plain cosine (message or step), so its meaning
does not depend on the fusion weights.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from orchestrator.protocols import Embedder
from orchestrator.routing.index import ToolIndex
from orchestrator.routing.text import plain_request, request_parts
from orchestrator.tools import ToolSpec

log = logging.getLogger(__name__)

LEXICAL_WEIGHT = 0.15
PART_WEIGHT = 1.0
SERVER_WEIGHT = 0.2
HINT_BOOST = 0.05
MIN_TOOLS = 3


@dataclass(frozen=True, slots=True)
class RoutedTool:
    tool: ToolSpec
    score: float


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
        dense = index.dense(vector)[0]
        fused = dense + LEXICAL_WEIGHT * index.lexical.scores(plain_request(query))
        confidence = dense
        parts = request_parts(query)
        if parts:
            steps = np.stack([LEXICAL_WEIGHT * index.lexical.scores(p) for p in parts])
            if part_vectors is not None and len(part_vectors) == len(parts):
                part_dense = index.dense(part_vectors)
                steps = steps + part_dense
                confidence = np.maximum(confidence, part_dense.max(axis=0))
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
        chat_hints: Sequence[str] = (),
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
        if chat_hints:
            hinted = set(chat_hints)
            fused = fused + HINT_BOOST * np.fromiter(
                (t.key in hinted for t in self.tools), dtype=np.float32, count=len(self.tools)
            )
        k = top_k or self.top_k
        picked: list[RoutedTool] = []
        for i in np.argsort(-fused, kind="stable"):
            tool = self.tools[int(i)]
            if allowed is not None and not allowed(tool):
                continue
            if confidence[i] < self.threshold and len(picked) >= MIN_TOOLS:
                continue
            picked.append(RoutedTool(tool, float(fused[i])))
            if len(picked) >= k:
                break
        return picked

    async def route_text(self, query: str, **kwargs: object) -> list[RoutedTool]:
        """Embed the request (message and steps in one call), then route it."""
        vector, parts = await self.request_vectors(query)
        return self.route(query, vector, part_vectors=parts, **kwargs)  # type: ignore[arg-type]
