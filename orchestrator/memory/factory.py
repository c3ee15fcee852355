"""Pick the memory store the config names (None when memory is off)."""

from __future__ import annotations

from orchestrator.config import MemorySettings
from orchestrator.memory.base import MemoryStore
from orchestrator.memory.chroma_store import ChromaMemoryStore
from orchestrator.memory.write_behind import WriteBehindMemory


def make_memory_store(settings: MemorySettings) -> MemoryStore | None:
    if settings.type == "none":
        return None
    return WriteBehindMemory(ChromaMemoryStore(settings))
