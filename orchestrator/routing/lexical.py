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
    """Scores in [0, 1] per document: BM25 divided by the best document's score.

    bm25s builds the index (Lucene's BM25, whose per-token document scores are precomputed);
    `scores_many` sums those for a message and all its steps in one `bincount`, instead of
    one bm25s query per text, which is most of what routing a long request costs.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self.size = len(texts)
        self._bm25: bm25s.BM25 | None = None
        if texts:
            self._bm25 = bm25s.BM25(method="lucene")
            self._bm25.index([stemmed(t) or ["_"] for t in texts], show_progress=False)

    def scores(self, text: str) -> np.ndarray:
        return self.scores_many([text])[0]

    def scores_many(self, texts: Sequence[str]) -> np.ndarray:
        """One row of normalised BM25 scores per text."""
        rows = len(texts)
        if self._bm25 is None or rows == 0:
            return np.zeros((rows, self.size), dtype=np.float32)
        index = self._bm25.scores
        data, docs, starts = index["data"], index["indices"], index["indptr"]
        cells: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for row, text in enumerate(texts):
            for token in self._bm25.get_tokens_ids(stemmed(text)):
                lo, hi = starts[token], starts[token + 1]
                cells.append(docs[lo:hi] + row * self.size)
                weights.append(data[lo:hi])
        if not cells:
            return np.zeros((rows, self.size), dtype=np.float32)
        raw = np.bincount(
            np.concatenate(cells), weights=np.concatenate(weights), minlength=rows * self.size
        ).reshape(rows, self.size)
        top = raw.max(axis=1, keepdims=True)
        return (raw / np.where(top > 0, top, 1.0)).astype(np.float32)
