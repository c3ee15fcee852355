"""BM25 over the tools' rich text (bm25s), with Snowball stemming so 'saved' meets 'save'."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

from orchestrator.routing.text import tokens

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s turns DEBUG on at import

_stemmer = Stemmer.Stemmer("english")


def stemmed(text: str) -> list[str]:
    return _stemmer.stemWords(tokens(text))


class LexicalIndex:
    """Scores in [0, 1] per document: BM25 divided by the best document's score."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.size = len(texts)
        self._bm25: bm25s.BM25 | None = None
        if texts:
            self._bm25 = bm25s.BM25()
            self._bm25.index([stemmed(t) or ["_"] for t in texts], show_progress=False)

    def scores(self, text: str) -> np.ndarray:
        query = stemmed(text)
        if self._bm25 is None or not query:
            return np.zeros(self.size, dtype=np.float32)
        raw = np.asarray(self._bm25.get_scores(query), dtype=np.float32)
        top = float(raw.max())
        return raw / top if top > 0 else np.zeros(self.size, dtype=np.float32)
