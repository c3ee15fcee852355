"""USE-multilingual loads from the model cache: the same vectors as the package's own loader,
the tokenizer unpickled and the embedding table memory-mapped instead of rebuilt each start."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from orchestrator.embedding.use_cache import load_model, use_cache_dir

TEXTS = [
    "¿qué facturas siguen pendientes?",
    "post the total to #finance on discord",
    "Wie spät ist es gerade in Berlin?",
    "check our YouTube channel stats, create a report in ClickUp, and notify the team",
]


def test_second_start_reads_the_cache_and_encodes_the_same(tmp_path: Path) -> None:
    first = load_model(cache_dir=tmp_path)  # the package's loader, then the cache is written
    where = use_cache_dir(tmp_path)
    assert sorted(p.name for p in where.iterdir()) == [
        "arrays.npz",
        "table.npy",
        "tokenizer.pickle",
    ]
    second = load_model(cache_dir=tmp_path)
    assert isinstance(second._backend.table, np.memmap)
    np.testing.assert_array_equal(first.encode(TEXTS), second.encode(TEXTS))


def test_a_damaged_cache_falls_back_to_the_package(tmp_path: Path) -> None:
    reference = load_model(cache_dir=tmp_path).encode(TEXTS)
    (use_cache_dir(tmp_path) / "arrays.npz").write_bytes(b"not an npz")
    again = load_model(cache_dir=tmp_path)
    assert not isinstance(again._backend.table, np.memmap)
    np.testing.assert_array_equal(reference, again.encode(TEXTS))
