"""Step vectors without their own encodes: each step mean-pooled from the message's own token
states (one forward pass), the way "late chunking" pools chunks of a long document.

The router embeds a message and each of its steps (`request_parts`): about twice the tokens of
the message alone. Pooling the steps out of the message's pass would cost no encode at all; this
module measures what it does to routing (`bench.routing`'s row "step vectors pooled from the
message's pass"). Spans are cut from the message as sent with the same step boundaries as
`request_parts`; where a path or URL hides a boundary (the counts differ) the steps are encoded
as usual.
"""

from __future__ import annotations

import numpy as np

from orchestrator.embedding.onnx_minilm import OnnxMiniLMEmbedder
from orchestrator.routing.text import _SPLIT, _plain, request_parts, tokens


def step_spans(query: str) -> list[tuple[int, int]]:
    """Character spans of the message's steps, cut where `request_parts` cuts."""
    spans, start = [], 0
    for boundary in _SPLIT.finditer(query):
        spans.append((start, boundary.start()))
        start = boundary.end()
    spans.append((start, len(query)))
    kept = [(a, b) for a, b in spans if b > a and tokens(_plain(query[a:b]))]
    return kept if len(kept) > 1 else []


class PooledSteps:
    """Step vectors pooled from the message's pass; counts how often the spans lined up."""

    def __init__(self, model: OnnxMiniLMEmbedder) -> None:
        self.model = model
        self.memo: dict[str, np.ndarray | None] = {}
        self.pooled = self.fallback = 0

    def __call__(self, query: str) -> np.ndarray | None:
        """The pooled step vectors, or None when the spans do not match `request_parts`."""
        if query not in self.memo:
            spans = step_spans(query)
            lined_up = len(spans) == len(request_parts(query))
            self.memo[query] = self._pool(query, spans) if spans and lined_up else None
            if spans or request_parts(query):
                self.pooled += lined_up
                self.fallback += not lined_up
        return self.memo[query]

    def _pool(self, query: str, spans: list[tuple[int, int]]) -> np.ndarray:
        encoding = self.model.tokenizer.encode(query)
        ids = np.array([encoding.ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        inputs = {k: v for k, v in feeds.items() if k in self.model.input_names}
        states = self.model.session.run(None, inputs)[0][0]
        rows = []
        for start, end in spans:
            picked = [
                i
                for i, (a, b) in enumerate(encoding.offsets)
                if not encoding.special_tokens_mask[i] and start <= a < b <= end
            ]
            row = states[picked or list(range(len(encoding.ids)))].mean(axis=0)
            rows.append(row / max(float(np.linalg.norm(row)), 1e-12))
        return np.asarray(rows, dtype=np.float32)
