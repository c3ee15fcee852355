"""The routing hot path's building blocks give what the plain numpy calls give."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator.routing.product import product
from orchestrator.routing.router import best_first


@pytest.mark.parametrize("count", range(1, 10))
def test_product_of_any_row_count_is_the_matrix_product(count: int) -> None:
    rng = np.random.default_rng(count)
    rows = rng.standard_normal((count, 64)).astype(np.float32)
    matrix = rng.standard_normal((64, 300)).astype(np.float32)
    out = product(rows, matrix)
    assert out.shape == (count, 300) and out.dtype == np.float32
    np.testing.assert_allclose(out, rows @ matrix, rtol=1e-5, atol=1e-4)


def test_best_first_is_the_stable_order_prefix_with_every_tie() -> None:
    scores = np.array([0.5, 0.9, 0.7, 0.7, 0.1, 0.7, 0.3, 0.9], dtype=np.float32)
    full = np.argsort(-scores, kind="stable")
    for count in range(1, 10):
        prefix = best_first(scores, count)
        assert len(prefix) >= min(count, len(scores))
        assert prefix.tolist() == full[: len(prefix)].tolist()
    assert best_first(scores, 3).tolist() == [1, 7, 2, 3, 5]  # the 0.7s tie: all three in
