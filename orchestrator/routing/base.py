"""The Router seam: which tools of the catalogue a message needs, best first."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from orchestrator.mcp.tools import ToolSpec
from orchestrator.memory.base import Memory
from orchestrator.routing.directory import DEFAULT_BUDGET, Directory, build_directory


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


class Routing(list[RoutedTool]):
    """The tools that get full schemas, best first (a list of `RoutedTool`), and what the core
    needs to offer the rest: `directory(allowed)` lists every other allowed tool by server, so
    no tool is out of the model's reach."""

    def __init__(
        self, picked: Sequence[RoutedTool], descriptions: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(picked)
        self._descriptions = dict(descriptions or {})
        self.server_order: list[str] = list(dict.fromkeys(r.tool.server for r in picked))

    @property
    def tools(self) -> list[ToolSpec]:
        return [r.tool for r in self]

    def directory(
        self,
        allowed: Sequence[ToolSpec],
        *,
        name_of: Callable[[ToolSpec], str] | None = None,
        budget: int = DEFAULT_BUDGET,
    ) -> Directory:
        """The compact directory of `allowed` minus the tools sent in full."""
        return build_directory(
            allowed,
            self.tools,
            descriptions=self._descriptions,
            name_of=name_of,
            budget=budget,
            order=self.server_order,
        )


class Router(Protocol):
    """Ranks the catalogue for one embedded request (see `routing.router.ToolRouter`)."""

    @property
    def tools(self) -> list[ToolSpec]: ...

    async def refresh(
        self, tools: Sequence[ToolSpec], servers: Mapping[str, str] | None = None
    ) -> None: ...

    async def request_vectors(self, query: str) -> tuple[np.ndarray, np.ndarray]: ...

    def route(
        self,
        query: str,
        vector: np.ndarray,
        *,
        allowed: Callable[[ToolSpec], bool] | None = None,
        top_k: int | None = None,
        past: Sequence[PastUse] = (),
        part_vectors: np.ndarray | None = None,
    ) -> Routing: ...

    def ranking(
        self,
        query: str,
        vector: np.ndarray,
        *,
        limit: int = 10,
        allowed: Callable[[ToolSpec], bool] | None = None,
        past: Sequence[PastUse] = (),
        part_vectors: np.ndarray | None = None,
    ) -> list[RoutedTool]: ...
