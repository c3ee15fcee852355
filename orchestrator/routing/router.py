"""The router: dense cosine (MiniLM) fused with BM25, per-step lexical matching, chat hints.

The message is embedded once by the caller; routing itself is a matrix-vector product and a
sparse BM25 lookup, well under a couple of milliseconds for a thousand tools.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from orchestrator.protocols import Embedder
from orchestrator.routing.text import request_parts, tokens, tool_text
from orchestrator.tools import ToolSpec

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s forces DEBUG on import

LEXICAL_WEIGHT = 0.25
PART_WEIGHT = 0.15
HINT_BOOST = 0.05
MIN_TOOLS = 3


@dataclass(frozen=True, slots=True)
class RoutedTool:
    tool: ToolSpec
    score: float


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


class ToolRouter:
    def __init__(self, embedder: Embedder, top_k: int = 8, threshold: float = 0.3) -> None:
        self.embedder = embedder
        self.top_k = top_k
        self.threshold = threshold
        self.tools: list[ToolSpec] = []
        self.matrix = np.zeros((0, 384), dtype=np.float32)
        self._cache: dict[str, np.ndarray] = {}  # text digest -> vector
        self._bm25: bm25s.BM25 | None = None
        self.encoded = 0  # how many tool texts were embedded, for tests and logs

    async def refresh(self, tools: Sequence[ToolSpec]) -> None:
        """Rebuild the index; only tools whose text changed are embedded again."""
        texts = [tool_text(t) for t in tools]
        digests = [_digest(t) for t in texts]
        missing = [(d, t) for d, t in zip(digests, texts, strict=True) if d not in self._cache]
        if missing:
            vectors = await self.embedder.embed([t for _, t in missing])
            self._cache.update({d: v for (d, _), v in zip(missing, vectors, strict=True)})
            self.encoded += len(missing)
        keep = set(digests)
        self._cache = {d: v for d, v in self._cache.items() if d in keep}
        self.tools = list(tools)
        dim = getattr(self.embedder, "dim", 384)
        self.matrix = (
            np.stack([self._cache[d] for d in digests])
            if digests
            else np.zeros((0, dim), dtype=np.float32)
        )
        self._bm25 = self._build_bm25(texts)
        log.info("router_indexed tools=%d embedded=%d", len(tools), len(missing))

    @staticmethod
    def _build_bm25(texts: Sequence[str]) -> bm25s.BM25 | None:
        corpus = [tokens(t) or ["_"] for t in texts]
        if not corpus:
            return None
        index = bm25s.BM25()
        index.index(corpus, show_progress=False)
        return index

    def _lexical(self, text: str) -> np.ndarray:
        scores = np.zeros(len(self.tools), dtype=np.float32)
        query = tokens(text)
        if self._bm25 is None or not query:
            return scores
        raw = self._bm25.get_scores(query).astype(np.float32)
        top = float(raw.max()) if raw.size else 0.0
        return raw / top if top > 0 else scores

    def scores(self, query: str, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(fused score, dense cosine) for every indexed tool."""
        dense = self.matrix @ np.asarray(vector, dtype=np.float32)
        fused = dense + LEXICAL_WEIGHT * self._lexical(query)
        for part in request_parts(query):
            fused = fused + PART_WEIGHT * self._lexical(part)
        return fused, dense

    def route(
        self,
        query: str,
        vector: np.ndarray,
        *,
        allowed: Callable[[ToolSpec], bool] | None = None,
        top_k: int | None = None,
        chat_hints: Sequence[str] = (),
    ) -> list[RoutedTool]:
        """Top-k allowed tools. Tools under the threshold are dropped, but never all of them:
        the best `MIN_TOOLS` stay, so the model is never left without a tool to try."""
        if not self.tools:
            return []
        fused, dense = self.scores(query, vector)
        if chat_hints:
            hinted = set(chat_hints)
            fused = fused + HINT_BOOST * np.array([t.key in hinted for t in self.tools])
        order = np.argsort(-fused)
        picked: list[RoutedTool] = []
        k = top_k or self.top_k
        for i in order:
            tool = self.tools[int(i)]
            if allowed is not None and not allowed(tool):
                continue
            if dense[i] < self.threshold and len(picked) >= MIN_TOOLS:
                continue
            picked.append(RoutedTool(tool, float(fused[i])))
            if len(picked) >= k:
                break
        return picked

    async def route_text(self, query: str, **kwargs: object) -> list[RoutedTool]:
        vector = (await self.embedder.embed([query]))[0]
        return self.route(query, vector, **kwargs)  # type: ignore[arg-type]
