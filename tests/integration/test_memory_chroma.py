"""Long-term memory on real Chroma in a temp dir, with real MiniLM embeddings."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from orchestrator.config import MemorySettings
from orchestrator.memory.base import Memory
from orchestrator.memory.chroma_store import SYNC_EVERY, ChromaMemoryStore
from tests.conftest import REPO


def item(
    chat: str,
    request: str,
    user: str = "u1",
    ts: float | None = None,
    tools: tuple[str, ...] = (),
    summary: str = "",
) -> Memory:
    """A memory of `chat` (shared by the memory suites)."""
    return Memory(
        id="",
        chat_key=chat,
        user_id=user,
        request=request,
        summary=summary or f"done: {request}",
        tools_used=tools,
        timestamp=ts or time.time(),
    )


@pytest.fixture
def store(tmp_path: Path) -> ChromaMemoryStore:
    return ChromaMemoryStore(
        MemorySettings(persist_directory=str(tmp_path / "mem"), relevance_threshold=0.3)
    )


async def remember(store: ChromaMemoryStore, embedder, memory: Memory) -> None:  # type: ignore[no-untyped-def]
    await store.remember(memory, (await embedder.embed([memory.request]))[0])


async def test_recall_finds_this_chats_relevant_memory(store: ChromaMemoryStore, embedder) -> None:  # type: ignore[no-untyped-def]
    await remember(
        store,
        embedder,
        item("t:a", "the Globex invoice is due on Friday", tools=("xero/list_invoices",)),
    )
    await remember(store, embedder, item("t:a", "our YouTube channel is called CatCorner"))
    vector = (await embedder.embed(["when is the Globex invoice due?"]))[0]
    found = await store.recall("t:a", vector, 5)
    assert found[0].request == "the Globex invoice is due on Friday"
    assert found[0].tools_used == ("xero/list_invoices",)
    assert all(m.score >= 0.3 for m in found)
    assert await store.recall("t:other", vector, 5) == []


async def test_unrelated_memories_fall_under_the_threshold(
    store: ChromaMemoryStore, embedder
) -> None:  # type: ignore[no-untyped-def]
    await remember(store, embedder, item("t:a", "the Globex invoice is due on Friday"))
    vector = (await embedder.embed(["recipe for banana bread"]))[0]
    assert await store.recall("t:a", vector, 5) == []


async def test_near_duplicates_are_merged(store: ChromaMemoryStore, embedder) -> None:  # type: ignore[no-untyped-def]
    await remember(store, embedder, item("t:a", "what time is it in Tokyo", ts=1.0))
    await remember(store, embedder, item("t:a", "what time is it in Tokyo?", ts=2.0))
    await remember(store, embedder, item("t:a", "create a ClickUp task for the launch", ts=3.0))
    recent = await store.recent("t:a")
    assert [m.request for m in recent] == [
        "create a ClickUp task for the launch",
        "what time is it in Tokyo?",
    ]


async def test_forget_last_and_forget_chat(store: ChromaMemoryStore, embedder) -> None:  # type: ignore[no-untyped-def]
    await remember(store, embedder, item("t:a", "ann asked about invoices", "ann", 1.0))
    await remember(store, embedder, item("t:a", "bob asked about videos", "bob", 2.0))
    await remember(store, embedder, item("t:a", "ann asked about the weather", "ann", 3.0))
    assert await store.forget_last("t:a", "ann") == 1
    assert [m.request for m in await store.recent("t:a")] == [
        "bob asked about videos",
        "ann asked about invoices",
    ]
    assert await store.forget_last("t:a", "carol") == 0
    assert await store.forget_chat("t:a") == 2
    assert await store.recent("t:a") == []


async def test_prune_enforces_age_and_count(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    store = ChromaMemoryStore(
        MemorySettings(persist_directory=str(tmp_path / "m"), max_items_per_chat=2, max_age_days=30)
    )
    now = time.time()
    for i, text in enumerate(
        [
            "alpha project kickoff",
            "beta invoice paid",
            "gamma video uploaded",
            "delta server migrated",
        ]
    ):
        await remember(store, embedder, item("t:a", text, ts=now - i * 3600))
    await remember(store, embedder, item("t:b", "an old note about lunch", ts=now - 40 * 86400))
    assert await store.prune(now) == 3
    assert [m.request for m in await store.recent("t:a")] == [
        "alpha project kickoff",
        "beta invoice paid",
    ]
    assert await store.recent("t:b") == []


async def test_a_new_process_sees_earlier_memories(store: ChromaMemoryStore, embedder) -> None:  # type: ignore[no-untyped-def]
    await remember(store, embedder, item("telegram:-100", "the Globex deal closes in March"))
    code = (
        "import asyncio\nfrom orchestrator.config import MemorySettings\n"
        "from orchestrator.memory.chroma_store import ChromaMemoryStore\n"
        "s = ChromaMemoryStore(MemorySettings("
        f"persist_directory={store.settings.persist_directory!r}))\n"
        "print(asyncio.run(s.recent('telegram:-100'))[0].request)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert out.stdout.strip() == "the Globex deal closes in March", out.stderr


def log_rows(directory: Path) -> int:
    with sqlite3.connect(directory / "chroma.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM embeddings_queue").fetchone()[0])


async def write_each(store: ChromaMemoryStore, chats: list[str], count: int) -> None:
    """`count` memories a chat, one write each (as the write-behind writer does over time)."""
    rng = np.random.default_rng(7)
    for n in range(count):
        for chat in chats:
            vector = rng.normal(size=384).astype(np.float32)
            await store.remember(item(chat, f"request {n}"), vector / np.linalg.norm(vector))


async def test_small_chats_leave_the_write_ahead_log(tmp_path: Path) -> None:
    """Chroma drops a chat's rows from its log (which every write reads) only when it persists
    that chat's index; at its default, every 1,000 writes, a chat of a few memories stays in the
    log for good: 400 such chats made a write cost 2.3x (bench in chroma_store.SYNC_EVERY)."""
    store = ChromaMemoryStore(MemorySettings(persist_directory=str(tmp_path)))
    chats = [f"telegram:-{n}" for n in range(4)]
    await write_each(store, chats, 12)
    assert log_rows(tmp_path) <= len(chats) * SYNC_EVERY // 2  # default: 48, every write kept
    for chat in chats:
        assert len(await store.recent(chat, limit=50)) == 12


async def test_a_chat_stored_with_chromas_default_gets_the_same_on_open(tmp_path: Path) -> None:
    old = (
        "import chromadb, numpy as np\n"
        "from chromadb.config import Settings\n"
        "from orchestrator.memory.chroma_store import collection_name\n"
        f"c = chromadb.PersistentClient(path={str(tmp_path)!r}, "
        "settings=Settings(anonymized_telemetry=False))\n"
        "col = c.get_or_create_collection(collection_name('telegram:-1'), "
        "embedding_function=None, metadata={'hnsw:space': 'cosine'})\n"
        "col.add(ids=['old'], embeddings=np.ones((1, 384), dtype=np.float32), "
        "metadatas=[{'chat_key': 'telegram:-1', 'request': 'old', 'timestamp': 1e12}])\n"
    )
    done = subprocess.run([sys.executable, "-c", old], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    store = ChromaMemoryStore(MemorySettings(persist_directory=str(tmp_path)))
    await write_each(store, ["telegram:-1"], 24)
    assert log_rows(tmp_path) <= SYNC_EVERY  # the 25 writes would all be kept otherwise
    assert len(await store.recent("telegram:-1", limit=50)) == 25


TOPICS = [
    "invoice",
    "deploy",
    "video",
    "meeting",
    "budget",
    "hiring",
    "roadmap",
    "bug report",
    "customer call",
    "marketing plan",
]


@pytest.mark.slow
@pytest.mark.timeout(360)  # 2,000 real embeddings + Chroma writes; slow on a busy 2-core host
async def test_two_thousand_memories_over_twenty_chats_never_leak(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Overlapping topics in every chat; 1,000 queries (50 a chat) see only their own chat.

    The memories arrive interleaved across the chats, as real traffic does, and are written
    as the bot's write-behind writer writes them: batches of whatever is waiting, each batch
    holding memories of every chat (`remember_many` splits it into one upsert per chat). Each
    memory written alone took 2,000 upserts (26 s here) for the same stored data."""
    rng = random.Random(7)
    store = ChromaMemoryStore(
        MemorySettings(persist_directory=str(tmp_path / "iso"), relevance_threshold=-1.0)
    )
    chats = [f"telegram:-{1000 + i}" for i in range(20)]
    texts = [f"{rng.choice(TOPICS)} note {n} for team {c[-4:]}" for n in range(100) for c in chats]
    vectors = await embedder.embed(texts)
    batch: list[tuple[Memory, np.ndarray]] = []
    for text, vector in zip(texts, vectors, strict=True):
        chat = f"telegram:-{text.rsplit(' ', 1)[1]}"
        batch.append((Memory("", chat, "u", text, "s", timestamp=time.time()), vector))
        if len(batch) == 400:  # 20 of each chat's memories
            await store.remember_many(batch)
            batch = []
    assert not batch
    for chat in chats:  # each batch was split by chat: a chat holds its own memories only
        stored = await store.recent(chat, limit=200)
        assert stored and all(m.chat_key == chat for m in stored)
    query_texts = [f"what about the {t}?" for t in TOPICS]
    query_vectors = await embedder.embed(query_texts)
    leaks = returned = 0
    for chat in chats:
        for _ in range(1000 // 20):
            found = await store.recall(chat, query_vectors[rng.randrange(len(TOPICS))], 5)
            returned += len(found)
            leaks += sum(m.chat_key != chat for m in found)
    assert returned > 0 and leaks == 0


async def test_retention_never_opens_idle_chats_and_prunes_a_chat_when_first_used(
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    settings = MemorySettings(persist_directory=str(tmp_path / "r"), max_age_days=30)
    writer = ChromaMemoryStore(settings)
    now = time.time()
    await remember(
        writer,
        embedder,
        item("t:old", "the Globex contract was signed in Berlin", ts=now - 40 * 86400),
    )
    await remember(writer, embedder, item("t:old", "our team lunch is on Friday", ts=now))
    code = (
        "import asyncio\nfrom orchestrator.config import MemorySettings\n"
        "from orchestrator.memory.chroma_store import ChromaMemoryStore\n"
        f"s = ChromaMemoryStore(MemorySettings(persist_directory={settings.persist_directory!r},"
        " max_age_days=30))\n"
        "print(asyncio.run(s.prune()), len(s._collections))\n"  # a restart: nothing is open
        "print([m.request for m in asyncio.run(s.recent('t:old'))])\n"  # first use prunes
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert out.stdout.split("\n")[:2] == ["0 0", "['our team lunch is on Friday']"], out.stderr
