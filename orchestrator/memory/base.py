"""The MemoryStore seam: long-term memory of past interactions, scoped to one chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True, slots=True)
class Memory:
    """One remembered interaction of one chat."""

    id: str
    chat_key: str
    user_id: str
    request: str
    summary: str
    tools_used: tuple[str, ...] = ()
    success: bool = True
    timestamp: float = 0.0
    score: float = 0.0


class MemoryStore(Protocol):
    async def recall(self, chat_key: str, vector: np.ndarray, k: int = 5) -> list[Memory]: ...

    async def remember(self, memory: Memory, vector: np.ndarray) -> None: ...

    async def recent(self, chat_key: str, offset: int = 0, limit: int = 10) -> list[Memory]: ...

    async def forget_chat(self, chat_key: str) -> int: ...

    async def forget_last(self, chat_key: str, user_id: str) -> int: ...

    async def prune(self) -> int: ...

    async def close(self) -> None: ...
