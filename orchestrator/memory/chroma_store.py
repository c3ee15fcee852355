"""Long-term memory on Chroma: one collection per chat, our own embeddings.

One collection per chat (named by a hash of the chat key) makes scoping structural: a query
can only ever see its own chat's vectors, and it stays as fast as an unscoped query on a small
collection, unlike a metadata filter over one big collection. Chroma's client is synchronous,
so every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import numpy as np

from orchestrator.config import MemorySettings
from orchestrator.memory.base import Memory

log = logging.getLogger(__name__)

DUPLICATE_SIMILARITY = 0.92
# Chroma persists a collection's vector index every `sync_threshold` writes, and only then
# drops that collection's rows from its write-ahead log, which every write reads. At Chroma's
# default (1,000) a chat with fewer memories never leaves the log: 200 chats of 25 memories
# kept 5,000 rows and a write cost 14.1 ms of CPU and growing (11.0 ms at first); every 10
# writes: 1,200 rows and 8.1 ms, flat (bench/results/memory.md; 400 chats: 18.5 vs 8.3 ms).
SYNC_EVERY = 10
NEW_COLLECTION = {
    "hnsw:space": "cosine",
    "hnsw:sync_threshold": SYNC_EVERY,
    "hnsw:batch_size": SYNC_EVERY,
}


def collection_name(chat_key: str) -> str:
    return "chat_" + hashlib.sha256(chat_key.encode()).hexdigest()[:40]


def _client(settings: MemorySettings) -> Any:
    import chromadb
    from chromadb.config import Settings

    chroma_settings = Settings(anonymized_telemetry=False)
    if settings.url:
        url = urlparse(settings.url)
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    return chromadb.PersistentClient(path=settings.persist_directory, settings=chroma_settings)


def _sync_often(col: Any) -> None:
    """A chat stored before `SYNC_EVERY` (or by another client) gets it too. Chroma applies it
    when the collection's index loads, i.e. on the first read or write in a process: hence
    here, on open, before either."""
    hnsw = (getattr(col, "configuration", None) or {}).get("hnsw") or {}
    if hnsw.get("sync_threshold", SYNC_EVERY) == SYNC_EVERY:
        return
    try:
        col.modify(configuration={"hnsw": {"sync_threshold": SYNC_EVERY, "batch_size": SYNC_EVERY}})
    except Exception as exc:  # noqa: BLE001 - a slower log, never a lost memory
        log.warning(
            "memory_sync_threshold_kept collection=%s error=%s", col.name, type(exc).__name__
        )


def _to_memory(mid: str, meta: dict[str, Any], score: float = 0.0) -> Memory:
    tools = str(meta.get("tools_used", ""))
    return Memory(
        id=mid,
        chat_key=str(meta.get("chat_key", "")),
        user_id=str(meta.get("user_id", "")),
        request=str(meta.get("request", "")),
        summary=str(meta.get("summary", "")),
        tools_used=tuple(t for t in tools.split(",") if t),
        success=bool(meta.get("success")),
        timestamp=float(meta.get("timestamp", 0.0)),
        score=score,
    )


def _metadata(memory: Memory) -> dict[str, Any]:
    return {
        "chat_key": memory.chat_key,
        "user_id": memory.user_id,
        "request": memory.request,
        "summary": memory.summary,
        "tools_used": ",".join(memory.tools_used),
        "success": memory.success,
        "timestamp": memory.timestamp or time.time(),
    }


class ChromaMemoryStore:
    """Implements MemoryStore; vectors come from the caller (the shared embedder)."""

    def __init__(self, settings: MemorySettings, client: Any = None) -> None:
        self.settings = settings
        self._client = client
        self._collections: dict[str, Any] = {}
        # Calls run in worker threads; Chroma's client start-up is not thread-safe (two threads
        # opening one path at once fail inside chromadb), so opening is serialised.
        self._opening = threading.Lock()

    def _opened(self) -> Any:
        """The client, opened on first use; call with `_opening` held."""
        if self._client is None:
            self._client = _client(self.settings)
        return self._client

    def open(self) -> None:
        """Open the client now (importing chromadb and opening its store take about a second):
        the core calls it at start, beside the MCP servers and the encoders, so the first
        message does not wait for it. Blocking: call it from a worker thread."""
        with self._opening:
            self._opened()

    def _collection(self, chat_key: str, create: bool = True) -> Any:
        name = collection_name(chat_key)
        with self._opening:
            if name not in self._collections:
                col = self._open(name, create)
                if col is None:
                    return None
                # Retention runs when a chat is first used after a start, then hourly while it
                # is open (see `prune`): chats are never opened just to be pruned.
                _prune_collection(col, self._cutoff(time.time()), self.settings.max_items_per_chat)
                self._collections[name] = col
            return self._collections[name]

    def _open(self, name: str, create: bool) -> Any:
        client = self._opened()
        if create:
            col = client.get_or_create_collection(
                name, embedding_function=None, metadata=NEW_COLLECTION
            )
        else:
            from chromadb.errors import NotFoundError  # chromadb loads on first use

            try:  # one look-up by name, not a listing of every chat's collection
                col = client.get_collection(name, embedding_function=None)
            except NotFoundError:
                return None
        _sync_often(col)
        return col

    def _cutoff(self, now: float) -> float:
        return now - self.settings.max_age_days * 86400

    async def recall(self, chat_key: str, vector: np.ndarray, k: int = 5) -> list[Memory]:
        return await asyncio.to_thread(self._recall, chat_key, vector, k)

    def _recall(self, chat_key: str, vector: np.ndarray, k: int) -> list[Memory]:
        col = self._collection(chat_key, create=False)
        if col is None or k <= 0:
            return []
        # No count() first: Chroma returns fewer rows (none when empty) when k is larger, and
        # each call holds the GIL for about a millisecond.
        found = col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            include=["metadatas", "distances"],
        )
        if not found["ids"][0]:
            return []
        out, cutoff = [], self._cutoff(time.time())
        for mid, meta, dist in zip(
            found["ids"][0], found["metadatas"][0], found["distances"][0], strict=True
        ):
            score = 1.0 - float(dist)
            if score >= self.settings.relevance_threshold and meta.get("chat_key") == chat_key:
                memory = _to_memory(mid, dict(meta), score)
                if memory.timestamp >= cutoff:  # expired, not yet pruned: never recalled
                    out.append(memory)
        return out

    async def remember(self, memory: Memory, vector: np.ndarray) -> None:
        await self.remember_many([(memory, vector)])

    async def remember_many(self, items: Sequence[tuple[Memory, np.ndarray]]) -> None:
        """One query and one upsert per chat, however many memories: an upsert's cost is mostly
        its commit (about 40 ms for one memory, 155 ms for 128 here)."""
        await asyncio.to_thread(self._remember_many, items)

    def _remember_many(self, items: Sequence[tuple[Memory, np.ndarray]]) -> None:
        by_chat: dict[str, list[tuple[Memory, np.ndarray]]] = {}
        for memory, vector in items:
            by_chat.setdefault(memory.chat_key, []).append(
                (memory, np.asarray(vector, dtype=np.float32))
            )
        for chat_key, group in by_chat.items():
            self._upsert(self._collection(chat_key), group)

    def _upsert(self, col: Any, group: list[tuple[Memory, np.ndarray]]) -> None:
        """A memory within DUPLICATE_SIMILARITY of a stored one (or of an earlier one in the
        batch) takes its id: the newer interaction replaces its twin."""
        vectors = np.stack([v for _, v in group])
        near = col.query(query_embeddings=vectors, n_results=1, include=["distances"])
        rows: dict[str, tuple[Memory, np.ndarray]] = {}
        ids: list[str] = []
        for n, (memory, vec) in enumerate(group):
            mid = memory.id or uuid.uuid4().hex
            if near["ids"][n] and 1.0 - float(near["distances"][n][0]) >= DUPLICATE_SIMILARITY:
                mid = near["ids"][n][0]
            earlier = vectors[:n] @ vec if n else np.zeros(0)
            if len(earlier) and float(earlier.max()) >= DUPLICATE_SIMILARITY:
                mid = ids[int(earlier.argmax())]
            ids.append(mid)
            rows.pop(mid, None)
            rows[mid] = (memory, vec)
        col.upsert(
            ids=list(rows),
            embeddings=np.stack([v for _, v in rows.values()]),
            documents=[m.request for m, _ in rows.values()],
            metadatas=[_metadata(m) for m, _ in rows.values()],
        )

    async def close(self) -> None:
        """Nothing to release: Chroma's client commits every write."""

    async def recent(self, chat_key: str, offset: int = 0, limit: int = 10) -> list[Memory]:
        return await asyncio.to_thread(self._recent, chat_key, offset, limit)

    def _all(self, chat_key: str) -> list[Memory]:
        col = self._collection(chat_key, create=False)
        if col is None:
            return []
        got = col.get(include=["metadatas"])
        items = [_to_memory(i, dict(m)) for i, m in zip(got["ids"], got["metadatas"], strict=True)]
        return sorted(items, key=lambda m: m.timestamp, reverse=True)

    def _recent(self, chat_key: str, offset: int, limit: int) -> list[Memory]:
        return self._all(chat_key)[offset : offset + limit]

    async def forget_chat(self, chat_key: str) -> int:
        return await asyncio.to_thread(self._forget_chat, chat_key)

    def _forget_chat(self, chat_key: str) -> int:
        col = self._collection(chat_key, create=False)
        if col is None:
            return 0
        count = col.count()
        with self._opening:
            self._opened().delete_collection(col.name)
            self._collections.pop(col.name, None)
        log.info("memory_forgot_chat items=%d", count)
        return int(count)

    async def forget_last(self, chat_key: str, user_id: str) -> int:
        return await asyncio.to_thread(self._forget_last, chat_key, user_id)

    def _forget_last(self, chat_key: str, user_id: str) -> int:
        mine = [m for m in self._all(chat_key) if m.user_id == user_id]
        if not mine:
            return 0
        self._collection(chat_key).delete(ids=[mine[0].id])
        return 1

    async def prune(self, now: float | None = None) -> int:
        """Enforce `max_age_days` and `max_items_per_chat` on the chats open in this process;
        returns deletions. Opening a chat costs about 3 MB that stays resident and 60 ms (one
        pass over 100 idle chats took 434 MB and 15 s), so idle chats are pruned when next
        used, and never recall what has expired meanwhile."""
        return await asyncio.to_thread(self._prune, now or time.time())

    def _prune(self, now: float) -> int:
        with self._opening:
            opened = list(self._collections.values())
        removed = sum(
            _prune_collection(col, self._cutoff(now), self.settings.max_items_per_chat)
            for col in opened
        )
        log.info("memory_pruned chats=%d removed=%d", len(opened), removed)
        return removed


def _prune_collection(col: Any, cutoff: float, max_items: int) -> int:
    """Delete one chat's memories older than `cutoff`, then its oldest beyond `max_items`.

    Ids only, filtered by Chroma: a chat within its limits costs a count and an empty query,
    not a read of every memory's metadata (which kept ~60 MB per 10,000 memories resident).
    """
    old = col.get(where={"timestamp": {"$lt": cutoff}}, include=[])["ids"]
    if old:
        col.delete(ids=old)
    if col.count() <= max_items:
        return len(old)
    got = col.get(include=["metadatas"])
    ranked = sorted(
        zip(got["ids"], got["metadatas"], strict=True),
        key=lambda pair: float(pair[1].get("timestamp", 0)),
        reverse=True,
    )
    extra = [mid for mid, _ in ranked[max_items:]]
    col.delete(ids=extra)
    return len(old) + len(extra)
