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
        self._postings: list[tuple[np.ndarray, np.ndarray]] = []  # per token: docs, scores
        if texts:
            self._bm25 = bm25s.BM25(method="lucene")
            self._bm25.index([stemmed(t) or ["_"] for t in texts], show_progress=False)
            index = self._bm25.scores
            data, docs, starts = index["data"], index["indices"], index["indptr"]
            self._postings = [
                (docs[starts[n] : starts[n + 1]], data[starts[n] : starts[n + 1]])
                for n in range(len(starts) - 1)
            ]

    def scores(self, text: str) -> np.ndarray:
        return self.scores_many([text])[0]

    def scores_many(self, texts: Sequence[str]) -> np.ndarray:
        """One row of normalised BM25 scores per text."""
        rows = len(texts)
        if self._bm25 is None or rows == 0:
            return np.zeros((rows, self.size), dtype=np.float32)
        vocabulary, postings = self._bm25.vocab_dict, self._postings
        cells: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for row, text in enumerate(texts):
            offset = row * self.size
            for token in stemmed(text):
                token_id = vocabulary.get(token)
                if token_id is None:
                    continue
                docs, data = postings[token_id]
                cells.append(docs + offset if offset else docs)
                weights.append(data)
        if not cells:
            return np.zeros((rows, self.size), dtype=np.float32)
        summed = np.bincount(
            np.concatenate(cells), weights=np.concatenate(weights), minlength=rows * self.size
        )
        raw = summed.astype(np.float64, copy=False).reshape(rows, self.size)
        top = raw.max(axis=1, keepdims=True)
        top[top <= 0] = 1.0
        raw /= top
        return raw.astype(np.float32)
