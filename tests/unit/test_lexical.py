"""The batched BM25 scoring agrees with bm25s's own, text by text."""

from __future__ import annotations

import numpy as np

from orchestrator.routing.lexical import LexicalIndex, stemmed

DOCS = [
    "clickup create task: Create a new task in a ClickUp list",
    "xero list invoices: List invoices, filter by status such as unpaid or overdue",
    "filesystem write file: Create a new file or overwrite an existing file",
    "telegram send message: Send a message to a Telegram chat",
]


def test_batched_scores_match_bm25s_per_text() -> None:
    index = LexicalIndex(DOCS)
    texts = ["which invoices are unpaid", "saved the tasks to a file", "zzz unknown words", ""]
    batched = index.scores_many(texts)
    assert batched.shape == (len(texts), len(DOCS))
    for row, text in zip(batched, texts, strict=True):
        query = stemmed(text)
        raw = index._bm25.get_scores(query) if query else np.zeros(len(DOCS))  # type: ignore[union-attr]
        known = [t for t in query if t in index._bm25.vocab_dict]  # type: ignore[union-attr]
        expected = raw / raw.max() if known and raw.max() > 0 else np.zeros(len(DOCS))
        assert np.allclose(row, expected, atol=1e-6)
    assert batched[0].argmax() == 1 and batched[1].argmax() in (0, 2)
    assert not batched[2].any() and not batched[3].any()


def test_an_empty_index_scores_nothing() -> None:
    assert LexicalIndex([]).scores_many(["anything"]).shape == (1, 0)
