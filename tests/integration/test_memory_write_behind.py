"""Write-behind memory over real Chroma in a temp dir, with real MiniLM embeddings.

`WriteBehindMemory` takes memory writes off the reply path; these tests check that nothing
waiting is invisible or lost: recall merges it, commands write it first, the background writer
and `close` put it on disk, and a failing store keeps it for later. The batched Chroma write
(`remember_many`) is checked for its near-duplicate merging.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from orchestrator.app import build_orchestrator
from orchestrator.config import MemorySettings, parse_config
from orchestrator.memory import write_behind
from orchestrator.memory.base import Memory
from orchestrator.memory.chroma_store import ChromaMemoryStore
from orchestrator.memory.write_behind import WriteBehindMemory
from orchestrator.messages import ChatMessage
from tests.conftest import REPO
from tests.fakes.openai_server import FakeOpenAI, text
from tests.integration.test_memory_chroma import item

GLOBEX = "the Globex invoice is due on Friday"


@pytest.fixture
def store(tmp_path: Path) -> ChromaMemoryStore:
    return ChromaMemoryStore(
        MemorySettings(persist_directory=str(tmp_path / "mem"), relevance_threshold=0.3)
    )


async def vec(embedder: Any, request: str) -> np.ndarray:
    return (await embedder.embed([request]))[0]


async def put(memory: Any, embedder: Any, m: Memory) -> None:
    """Remember `m` with its real embedding (into a WriteBehindMemory or a plain store)."""
    await memory.remember(m, await vec(embedder, m.request))


async def requests(store: ChromaMemoryStore, chat: str) -> list[str]:
    return [m.request for m in await store.recent(chat, 0, 100)]


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> bool:
    """Poll an async `check` until it holds or `seconds` pass; the final value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return await check()


def on_disk(persist_directory: str, chat: str) -> list[str]:
    """The chat's requests as a new process reads them from the directory."""
    code = (
        "import asyncio\nfrom orchestrator.config import MemorySettings\n"
        "from orchestrator.memory.chroma_store import ChromaMemoryStore\n"
        f"s = ChromaMemoryStore(MemorySettings(persist_directory={persist_directory!r}))\n"
        f"for m in asyncio.run(s.recent({chat!r})): print(m.request)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


class FlakyStore:
    """Fault injector around the real store: its first `failures` batch writes raise, and an
    optional gate holds writes in flight. Reads and commands go to the real store."""

    def __init__(self, inner: ChromaMemoryStore, failures: int = 0) -> None:
        self.inner = inner
        self.failures = failures
        self.batches: list[list[str]] = []  # the requests of every remember_many call
        self.entered = asyncio.Event()
        self.gate: asyncio.Event | None = None

    @property
    def settings(self) -> Any:
        return self.inner.settings

    @settings.setter
    def settings(self, value: Any) -> None:
        self.inner.settings = value

    async def remember_many(self, items: Sequence[tuple[Memory, np.ndarray]]) -> None:
        self.batches.append([m.request for m, _ in items])
        self.entered.set()
        if len(self.batches) <= self.failures:
            raise ConnectionError("chroma unreachable")
        # Shielded like the real store's worker thread: a cancelled caller does not stop it.
        await asyncio.shield(self._write(list(items)))

    async def _write(self, items: list[tuple[Memory, np.ndarray]]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        await self.inner.remember_many(items)

    def __getattr__(self, name: str) -> Any:  # recall, recent, forget_*, prune, close
        return getattr(self.inner, name)


# -- 1. the reply does not wait, recall still sees it ----------------------------------------
async def test_remember_returns_before_the_write_and_recall_merges_it(
    store: ChromaMemoryStore, embedder: Any
) -> None:
    flaky = FlakyStore(store)  # records the writes, fails none
    memory = WriteBehindMemory(flaky, linger_seconds=30)
    try:
        await put(memory, embedder, item("t:a", GLOBEX))
        query = await vec(embedder, "when is the Globex invoice due?")
        assert await store.recall("t:a", query, 5) == []  # not written yet
        found = await memory.recall("t:a", query, 5)
        assert [m.request for m in found] == [GLOBEX]
        expected = float(np.dot(await vec(embedder, GLOBEX), query))
        assert found[0].score == pytest.approx(expected, abs=1e-4)
        assert await memory.recall("t:other", query, 5) == []
        unrelated = await vec(embedder, "recipe for banana bread")
        assert await memory.recall("t:a", unrelated, 5) == []  # under relevance_threshold
        assert flaky.batches == []  # the writer is still lingering: nothing was sent
    finally:
        await memory.close()


async def test_recall_merges_stored_and_waiting_the_waiting_twin_wins(
    store: ChromaMemoryStore, embedder: Any
) -> None:
    """A request stored earlier and asked again (still waiting) shows once, newest summary."""
    await put(store, embedder, item("t:a", GLOBEX, summary="old answer"))
    await put(store, embedder, item("t:a", "our YouTube channel is called CatCorner"))
    memory = WriteBehindMemory(store, linger_seconds=30)
    try:
        await put(memory, embedder, item("t:a", GLOBEX, summary="new answer"))
        found = await memory.recall("t:a", await vec(embedder, "Globex invoice due Friday"), 5)
        assert [(m.request, m.summary) for m in found] == [(GLOBEX, "new answer")]
        both = await memory.recall("t:a", await vec(embedder, "CatCorner and Globex"), 5)
        assert {m.request for m in both} == {GLOBEX, "our YouTube channel is called CatCorner"}
        assert [m.score for m in both] == sorted((m.score for m in both), reverse=True)
    finally:
        await memory.close()


async def test_reloaded_settings_reach_the_store_and_the_waiting_merge(
    store: ChromaMemoryStore, embedder: Any
) -> None:
    """/reload assigns `memory.settings`: a stricter threshold applies to stored and waiting
    memories alike."""
    await put(store, embedder, item("t:a", "our YouTube channel is called CatCorner"))
    memory = WriteBehindMemory(store, linger_seconds=30)
    try:
        await put(memory, embedder, item("t:a", GLOBEX))
        query = await vec(embedder, "CatCorner and Globex")
        assert len(await memory.recall("t:a", query, 5)) == 2
        stricter = store.settings.model_copy(update={"relevance_threshold": 0.95})
        memory.settings = stricter
        assert store.settings is stricter and memory.settings is stricter
        assert await memory.recall("t:a", query, 5) == []
    finally:
        await memory.close()


# -- 2. flush and close write ------------------------------------------------------------------
async def test_flush_writes_what_is_waiting(store: ChromaMemoryStore, embedder: Any) -> None:
    memory = WriteBehindMemory(store, linger_seconds=30)
    try:
        await put(memory, embedder, item("t:a", GLOBEX))
        await memory.flush()
        found = await store.recall("t:a", await vec(embedder, "Globex invoice"), 5)
        assert [m.request for m in found] == [GLOBEX]
    finally:
        await memory.close()


async def test_close_puts_waiting_memories_on_disk(tmp_path: Path, embedder: Any) -> None:
    """Shutdown (Orchestrator.stop) must not lose what the writer had not reached yet."""
    directory = str(tmp_path / "closing")
    memory = WriteBehindMemory(
        ChromaMemoryStore(MemorySettings(persist_directory=directory)), linger_seconds=30
    )
    await put(memory, embedder, item("telegram:-100", "the Globex deal closes in March"))
    await put(memory, embedder, item("telegram:-100", "our YouTube channel is called CatCorner"))
    await memory.close()
    assert sorted(on_disk(directory, "telegram:-100")) == [
        "our YouTube channel is called CatCorner",
        "the Globex deal closes in March",
    ]


# -- 3. commands write first ---------------------------------------------------------------------
async def test_commands_see_and_remove_waiting_memories(
    store: ChromaMemoryStore, embedder: Any
) -> None:
    memory = WriteBehindMemory(store, linger_seconds=30)
    try:
        await put(memory, embedder, item("t:a", "ann asked about invoices", "ann", 1.0))
        assert [m.request for m in await memory.recent("t:a")] == ["ann asked about invoices"]
        await put(memory, embedder, item("t:a", "ann asked about the weather", "ann", 2.0))
        assert await memory.forget_last("t:a", "ann") == 1  # the waiting one is her last
        assert await requests(store, "t:a") == ["ann asked about invoices"]
        await put(memory, embedder, item("t:a", "bob asked about videos", "bob", 3.0))
        assert await memory.forget_chat("t:a") == 2
        assert await requests(store, "t:a") == []
        await put(memory, embedder, item("t:b", "an old note about lunch", ts=1.0))
        assert await memory.prune() == 1  # written first, then past max_age_days
        assert await requests(store, "t:b") == []
    finally:
        await memory.close()


# -- 4. the background writer ------------------------------------------------------------------
async def test_the_writer_writes_on_its_own_after_linger(
    store: ChromaMemoryStore, embedder: Any
) -> None:
    """Memories arriving together share one write; nothing calls flush."""
    flaky = FlakyStore(store)
    memory = WriteBehindMemory(flaky, linger_seconds=0.05)
    try:
        vectors = await embedder.embed([GLOBEX, "bob asked about videos"])
        await memory.remember(item("t:a", GLOBEX), vectors[0])
        await memory.remember(item("t:b", "bob asked about videos"), vectors[1])

        async def written() -> bool:
            return await requests(store, "t:a") == [GLOBEX] and await requests(store, "t:b") != []

        assert await until(written)
        assert flaky.batches == [[GLOBEX, "bob asked about videos"]]
    finally:
        await memory.close()


# -- 5. a failing store ------------------------------------------------------------------------
async def test_a_failing_store_keeps_memories_and_writes_them_later(
    store: ChromaMemoryStore, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write_behind, "RETRY_SECONDS", 0.01)
    flaky = FlakyStore(store, failures=1_000)
    memory = WriteBehindMemory(flaky, linger_seconds=0.01)
    try:
        await put(memory, embedder, item("t:a", GLOBEX))
        assert flaky.batches == []  # remember returned without waiting for any write

        async def retried() -> bool:
            return len(flaky.batches) >= 2

        assert await until(retried)
        query = await vec(embedder, "Globex invoice")
        assert await store.recall("t:a", query, 5) == []
        assert [m.request for m in await memory.recall("t:a", query, 5)] == [GLOBEX]
        flaky.failures = 0  # the store comes back

        async def written() -> bool:
            return await requests(store, "t:a") == [GLOBEX]

        assert await until(written)
        assert all(batch == [GLOBEX] for batch in flaky.batches)  # the same memory, retried
    finally:
        await memory.close()


async def test_a_store_failing_for_long_drops_the_oldest_with_a_warning(
    store: ChromaMemoryStore,
    embedder: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(write_behind, "MAX_WAITING", 3)
    flaky = FlakyStore(store, failures=1_000)
    memory = WriteBehindMemory(flaky, linger_seconds=30)
    notes = [f"note {n} about the {topic}" for n, topic in enumerate("abcde")]
    vectors = await embedder.embed(notes)
    with caplog.at_level(logging.WARNING, logger=write_behind.__name__):
        for note, vector in zip(notes, vectors, strict=True):
            await memory.remember(item("t:a", note), vector)
        assert await memory.recent("t:a") == []  # a failing write still lets commands answer
    dropped = [r for r in caplog.records if "memory_dropped" in r.getMessage()]
    assert len(dropped) == 2
    flaky.failures = 0
    await memory.close()
    assert sorted(await requests(store, "t:a")) == notes[2:]


async def test_a_memory_dropped_while_its_batch_is_in_flight_is_not_lost(
    store: ChromaMemoryStore, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the cap, a newer memory arriving during a write must survive that write's clean-up."""
    monkeypatch.setattr(write_behind, "MAX_WAITING", 2)
    flaky = FlakyStore(store)
    flaky.gate = asyncio.Event()
    memory = WriteBehindMemory(flaky, linger_seconds=30)
    notes = ["alpha project kickoff", "beta invoice paid", "gamma video uploaded"]
    vectors = await embedder.embed(notes)
    await memory.remember(item("t:a", notes[0]), vectors[0])
    await memory.remember(item("t:a", notes[1]), vectors[1])
    writing = asyncio.create_task(memory.flush())
    await flaky.entered.wait()
    await memory.remember(item("t:a", notes[2]), vectors[2])  # drops notes[0] from the queue
    flaky.gate.set()
    await writing
    await memory.close()
    assert sorted(await requests(store, "t:a")) == notes


async def test_close_during_a_write_does_not_write_the_batch_twice(
    store: ChromaMemoryStore, embedder: Any
) -> None:
    """The real store's write runs on in its thread when its caller is cancelled; close must
    wait for it rather than write the same memories again beside it."""
    flaky = FlakyStore(store)
    flaky.gate = asyncio.Event()
    memory = WriteBehindMemory(flaky, linger_seconds=0)
    await put(memory, embedder, item("t:a", GLOBEX))
    await flaky.entered.wait()  # the writer's batch is in flight
    closing = asyncio.create_task(memory.close())
    for _ in range(50):  # let close run as far as it can before the write finishes
        await asyncio.sleep(0)
    flaky.gate.set()
    await closing
    assert flaky.batches == [[GLOBEX]]
    assert await requests(store, "t:a") == [GLOBEX]


# -- 6. the batched Chroma write ---------------------------------------------------------------
async def test_near_twins_in_one_batch_become_one_row_the_newer_kept(
    store: ChromaMemoryStore, embedder: Any
) -> None:
    texts = ["what time is it in Tokyo", "what time is it in Tokyo?", "create a ClickUp task"]
    vectors = await embedder.embed(texts)
    batch = [
        (item("t:a", texts[0], summary="first answer"), vectors[0]),
        (item("t:a", texts[1], summary="second answer"), vectors[1]),
        (item("t:a", texts[2]), vectors[2]),
        (item("t:b", texts[0], summary="other chat"), vectors[0]),
    ]
    await store.remember_many(batch)
    rows = {m.request: m.summary for m in await store.recent("t:a")}
    assert rows == {texts[1]: "second answer", texts[2]: f"done: {texts[2]}"}
    assert [m.summary for m in await store.recent("t:b")] == ["other chat"]


async def test_a_near_twin_of_a_stored_memory_replaces_it(
    store: ChromaMemoryStore, embedder: Any
) -> None:
    await put(store, embedder, item("t:a", "what time is it in Tokyo", summary="old", ts=1.0))
    await put(store, embedder, item("t:a", "create a ClickUp task for the launch", ts=2.0))
    (stored_id,) = [m.id for m in await store.recent("t:a") if "Tokyo" in m.request]
    twin = "What time is it in Tokyo now?"
    await store.remember_many(
        [(item("t:a", twin, summary="new", ts=3.0), await vec(embedder, twin))]
    )
    rows = await store.recent("t:a")
    assert [(m.id, m.request, m.summary) for m in rows if "Tokyo" in m.request] == [
        (stored_id, twin, "new")
    ]
    assert len(rows) == 2


# -- 7. through the orchestrator -----------------------------------------------------------------
async def test_the_orchestrator_writes_waiting_memories_when_it_stops(
    tmp_path: Path, embedder: Any
) -> None:
    """The factory wraps Chroma in the write-behind layer and stop() writes what is waiting."""
    directory = str(tmp_path / "mem")
    with FakeOpenAI(default=text("Noted: the Globex invoice is due Friday.")) as llm:
        config = parse_config(
            f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
            f"  memory_system: {{persist_directory: '{directory}'}}\n"
            "scheduler: {enabled: false}\n",
            env={},
        )
        bot = build_orchestrator(config)
        memory = bot.services.memory
        assert isinstance(memory, WriteBehindMemory)
        memory.linger_seconds = 30  # only stop() can write it
        await bot.start()
        try:
            request = "remember that the Globex invoice is due Friday"
            await bot.handle(ChatMessage("telegram", "-1", "ann", request, user_name="ann"))
            assert await memory.store.recent("telegram:-1") == []
        finally:
            await bot.stop()
    reopened = ChromaMemoryStore(MemorySettings(persist_directory=directory))
    found = await reopened.recall("telegram:-1", await vec(embedder, "Globex invoice due"), 5)
    assert [(m.request, m.user_id) for m in found] == [(request, "ann")]


async def test_forget_while_the_store_fails_never_writes_the_forgotten_later(
    store: ChromaMemoryStore, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write_behind, "RETRY_SECONDS", 0.01)
    flaky = FlakyStore(store, failures=1_000)
    memory = WriteBehindMemory(flaky, linger_seconds=30)
    try:
        await put(memory, embedder, item("t:a", GLOBEX))
        await put(memory, embedder, item("t:a", "the team lunch is on Friday", user="u2"))
        await put(memory, embedder, item("t:b", "the beta release ships in May"))
        assert await memory.forget_last("t:a", "u1") == 1  # the store failed: forgotten here
        assert await memory.forget_chat("t:b") == 1
        flaky.failures = 0  # the store comes back: only what was not forgotten is written
        await memory.flush()
        assert await requests(store, "t:a") == ["the team lunch is on Friday"]
        assert await requests(store, "t:b") == []
    finally:
        await memory.close()
