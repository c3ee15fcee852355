"""The tool index: two embedded views per tool, BM25, and server groups.

Vectors are cached by tool key and a hash of the tool's text, so a refresh after a catalogue
change embeds only the tools that are new or whose description or schema changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np

from orchestrator.protocols import Embedder
from orchestrator.routing.lexical import LexicalIndex
from orchestrator.routing.text import name_text, tool_text
from orchestrator.tools import ToolSpec

log = logging.getLogger(__name__)


def _digest(*texts: str) -> str:
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:32]


class ToolIndex:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.dim = int(getattr(embedder, "dim", 384))
        self.tools: list[ToolSpec] = []
        self.short = np.zeros((0, self.dim), dtype=np.float32)  # "name in words: description"
        self.rich = np.zeros((0, self.dim), dtype=np.float32)  # server, name, description, params
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
        if tools:
            self.short = np.stack([self._cache[k][0] for k in keys])
            self.rich = np.stack([self._cache[k][1] for k in keys])
        else:
            self.short = self.rich = np.zeros((0, self.dim), dtype=np.float32)
        self.lexical = LexicalIndex([rich for _, rich in views])
        servers: dict[str, int] = {}
        self.server_ids = np.array(
            [servers.setdefault(t.server, len(servers)) for t in tools], dtype=np.intp
        )
        self.server_count = len(servers)
        log.info("tool_index_refreshed tools=%d embedded=%d", len(tools), len(missing))

    def dense(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each query row with each tool: the better of the two views."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        return np.maximum(vectors @ self.short.T, vectors @ self.rich.T)

    def server_max(self, scores: np.ndarray) -> np.ndarray:
        """Each tool's server's best score, per tool."""
        best = np.full(self.server_count, -np.inf, dtype=np.float32)
        np.maximum.at(best, self.server_ids, scores)
        return best[self.server_ids]
