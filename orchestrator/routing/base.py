"""The Router seam: which tools of the catalogue a message needs, best first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from orchestrator.mcp.tools import ToolSpec
from orchestrator.memory.base import Memory


@dataclass(frozen=True, slots=True)
class PastUse:
    """A tool an earlier successful request of this chat used, and how similar that request is
    to this one (cosine of the two message vectors, as memory recall reports it)."""

    tool_key: str
    similarity: float


def past_uses(memories: Sequence[Memory]) -> list[PastUse]:
    """What earlier successful requests like this one used (recalled memories, with their
    similarity to this request): the input of the experience vote."""
    return [
        PastUse(key, m.score) for m in memories if m.success for key in dict.fromkeys(m.tools_used)
    ]


@dataclass(frozen=True, slots=True)
class RoutedTool:
    tool: ToolSpec
    score: float


class Router(Protocol):
    """Ranks the catalogue for one embedded request (see `routing.router.ToolRouter`)."""

    @property
    def tools(self) -> list[ToolSpec]: ...

    async def refresh(self, tools: Sequence[ToolSpec]) -> None: ...

    async def request_vectors(self, query: str) -> tuple[np.ndarray, np.ndarray]: ...

    def scores(
        self, query: str, vector: np.ndarray, part_vectors: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def route(
        self,
        query: str,
        vector: np.ndarray,
        *,
        allowed: Callable[[ToolSpec], bool] | None = None,
        top_k: int | None = None,
        past: Sequence[PastUse] = (),
        part_vectors: np.ndarray | None = None,
    ) -> list[RoutedTool]: ...
