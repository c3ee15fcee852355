"""MiniLM on ONNX Runtime: the same vectors as sentence-transformers, no torch, a free loop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from orchestrator.embedding.batching import MicroBatcher
from orchestrator.embedding.onnx_minilm import OnnxMiniLMEmbedder

TEXTS = [
    "create a task in ClickUp for tomorrow",
    "what time is it in Tokyo?",
    "list unpaid invoices from Xero for last month",
    "post the weekly summary to #general",
    "remind me every Monday at 9 to send the report",
    "Summarise this YouTube video: https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://example.com/invoices?status=overdue&page=2#top",
    "forget everything you know about this chat",
    "Wie spät ist es gerade in Berlin?",
    "Crée une tâche pour appeler le client demain matin",
    "¿Cuántas facturas vencidas tenemos?",
    "Какая погода в Москве?",
    "東京の今の時間は？",
    "明天上午十点提醒我开会",
    "오늘 회의 일정 알려줘",
    "مرحبا، كيف حالك؟",
    "😀🚀 ship it!!! 🎉",
    "ok",
    "?",
    "",
    "   ",
    "\n\t",
    "a",
    "ERROR 500: upstream timeout after 30s (request id 7f3e-11ab)",
    "SELECT * FROM invoices WHERE due_date < now() AND paid = false;",
    "def add(a: int, b: int) -> int:\n    return a + b",
    "@bot please /schedule daily 08:00 post standup reminder",
    "The quick brown fox jumps over the lazy dog. " * 3,
    "Deploy the staging branch, run the migrations, then notify the team. " * 20,
    "word " * 600,  # past the 256-token limit: truncated like sentence-transformers
    " ".join(f"item{i}" for i in range(400)),
    "CamelCaseIdentifiersAndSnake_case_names mixed-with-dashes v1.2.3",
    "email alice@example.com and bob@example.org about the Q3 budget",
    "1234567890 3.14159 -42 1e-9",
]


@pytest.fixture(scope="module")
def onnx_embedder(embedder: OnnxMiniLMEmbedder) -> OnnxMiniLMEmbedder:
    return embedder  # the session's one (conftest), as the bot loads one per process


class ObservedEmbedder(OnnxMiniLMEmbedder):
    """The same loaded session; `encode` records its batch sizes and, given `ticks`, reports
    how often a loop task ran while it worked."""

    def __init__(self, shared: OnnxMiniLMEmbedder, ticks: list[int] | None = None) -> None:
        self.__dict__.update(shared.__dict__)
        self._batcher = MicroBatcher(self.encode, self.dim, self.max_batch)  # observes encode
        self.ticks = ticks
        self.ticked_during: list[bool] = []
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.calls.append(len(texts))
        at_start = self.ticks[0] if self.ticks is not None else 0
        vectors = super().encode(texts, batch_size)
        if self.ticks is None:
            return vectors
        # Wait (bounded) for the loop to run the ticker. Off the loop it has long done so; on
        # the loop it cannot, so the wait runs out and the test fails.
        deadline = threading.Event()
        for _ in range(200):
            if self.ticks[0] > at_start + 1:
                break
            deadline.wait(0.05)
        self.ticked_during.append(self.ticks[0] > at_start + 1)
        return vectors


def test_vectors_match_sentence_transformers(  # type: ignore[no-untyped-def]
    onnx_embedder: OnnxMiniLMEmbedder, torch_embedder
) -> None:
    ours = onnx_embedder.encode(TEXTS)
    reference = torch_embedder.encode(TEXTS)
    cosines = (ours * reference).sum(axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, f"{TEXTS[worst]!r}: cosine {cosines[worst]:.5f}"


def test_vectors_do_not_depend_on_batching(onnx_embedder: OnnxMiniLMEmbedder) -> None:
    together = onnx_embedder.encode(TEXTS, batch_size=64)
    alone = np.vstack([onnx_embedder.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-4)


class RecordingSession:
    """The real ONNX session; records the (rows, width) of every run."""

    def __init__(self, inner: object) -> None:
        self.inner, self.shapes = inner, []  # type: list[tuple[int, int]]

    def run(self, outputs: object, feeds: dict[str, np.ndarray]) -> object:
        self.shapes.append(feeds["input_ids"].shape)
        return self.inner.run(outputs, feeds)  # type: ignore[attr-defined]


def test_a_message_and_its_short_steps_do_not_share_padding(
    onnx_embedder: OnnxMiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = "Find the unpaid invoices from last quarter in Xero, email them, then post a summary"
    steps = ["Find the unpaid invoices from last quarter in Xero", "email them", "post a summary"]
    recording = RecordingSession(onnx_embedder.session)
    monkeypatch.setattr(onnx_embedder, "session", recording)
    vectors = onnx_embedder.encode([message, *steps])
    widths = [len(onnx_embedder.tokenizer.encode(t).ids) for t in [message, *steps]]
    # The message runs alone; the steps run at their own width, not padded to the message's.
    assert recording.shapes == [(1, widths[0]), (1, widths[1]), (2, widths[3])]
    assert sum(r * w for r, w in recording.shapes) < len(widths) * widths[0] * 0.6
    monkeypatch.undo()
    alone = np.vstack([onnx_embedder.encode([t]) for t in [message, *steps]])
    np.testing.assert_allclose(vectors, alone, atol=1e-4)


def test_runs_keep_the_row_and_token_limits(onnx_embedder: OnnxMiniLMEmbedder) -> None:
    lengths = [*[256] * 3, 200, 190, 64, *[30] * 40, 10]
    runs = list(onnx_embedder._runs(lengths, 16))
    # 2 x 256 fill max_batch_tokens (512); 200 is within MIN_FILL of 256, 190 is not, nor 30
    # of 64; 16 rows a run at most.
    assert onnx_embedder.max_batch_tokens == 512
    assert [len(r) for r in runs] == [2, 2, 1, 1, 16, 16, 8, 1]
    assert [i for r in runs for i in r] == list(range(len(lengths)))
    assert all(len(r) * lengths[r[0]] <= onnx_embedder.max_batch_tokens for r in runs)


def test_vectors_are_unit_length_float32_rows(onnx_embedder: OnnxMiniLMEmbedder) -> None:
    vectors = onnx_embedder.encode(["create a task", "what time is it in Tokyo"])
    assert onnx_embedder.dim == 384
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert onnx_embedder.encode([]).shape == (0, 384)


async def test_async_embed_matches_encode(onnx_embedder: OnnxMiniLMEmbedder) -> None:
    texts = ["list unpaid invoices", "post to the team channel"]
    vectors = await onnx_embedder.embed(texts)
    np.testing.assert_allclose(vectors, onnx_embedder.encode(texts), atol=1e-5)
    assert (await onnx_embedder.embed([])).shape == (0, 384)


async def test_concurrent_requests_share_one_encode_call(
    onnx_embedder: OnnxMiniLMEmbedder,
) -> None:
    # No ticker: a count that never moved made every encode wait out the ticker (10 s).
    observed = ObservedEmbedder(onnx_embedder)
    texts = [f"request number {i} about invoices" for i in range(12)]
    results = await asyncio.gather(*(observed.embed([t]) for t in texts))
    assert len(observed.calls) < len(texts)
    assert sum(observed.calls) == len(texts)
    np.testing.assert_allclose(np.vstack(results), onnx_embedder.encode(texts), atol=1e-5)


async def test_a_large_batch_encodes_while_the_loop_keeps_running(
    onnx_embedder: OnnxMiniLMEmbedder,
) -> None:
    ticks = [0]
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            ticks[0] += 1
            await asyncio.sleep(0)

    observed = ObservedEmbedder(onnx_embedder, ticks)
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    vectors = await observed.embed([f"a longer sentence to encode, number {i}" for i in range(256)])
    stop.set()
    await task
    assert vectors.shape == (256, 384)
    assert observed.ticked_during and all(observed.ticked_during)


def test_the_shared_embedder_leaves_one_blas_thread() -> None:
    """BLAS's threads would fight ONNX Runtime's for the cores (routing's tail: 7-13 ms)."""
    code = (
        "from threadpoolctl import threadpool_info\n"
        "import numpy\n"
        "from orchestrator.embedding.onnx_minilm import get_onnx_embedder\n"
        "get_onnx_embedder()\n"
        "print([i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'])\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("OPENBLAS_NUM_THREADS", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1]"


def test_serving_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from orchestrator.embedding.onnx_minilm import OnnxMiniLMEmbedder\n"
        "OnnxMiniLMEmbedder().encode(['hello'])\n"
        "heavy = {'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
