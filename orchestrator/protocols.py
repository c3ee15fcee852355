"""The seams of the core, one small Protocol each.

Tests swap real parts for fakes only at these edges (and only at the wire where possible).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np

from orchestrator.messages import Reply
from orchestrator.session import Session
from orchestrator.tools import ToolResult, ToolSpec


@runtime_checkable
class ChatAdapter(Protocol):
    """A chat platform backend: it receives messages and posts replies."""

    platform: str

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None: ...


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str = ""
    malformed: bool = False  # the model's arguments were not a JSON object


@dataclass(frozen=True, slots=True)
class LLMTurn:
    """One model response: either text, or tool calls to run before asking again."""

    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: dict[str, int] = field(default_factory=dict)


class LLM(Protocol):
    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMTurn: ...


class Embedder(Protocol):
    """Text to unit-length vectors; one shared instance per process."""

    dim: int

    async def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class SessionStore(Protocol):
    """Per-chat short-term state. `lock` serialises one chat's messages."""

    def lock(self, chat_key: str) -> AbstractAsyncContextManager[None]: ...

    async def load(self, chat_key: str) -> Session: ...

    async def save(self, chat_key: str, session: Session) -> None: ...

    async def close(self) -> None: ...


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


@dataclass(frozen=True, slots=True)
class ServerStatus:
    name: str
    state: str  # "up" | "down" | "starting" | "disabled"
    tool_count: int = 0
    last_error: str = ""
    restarts: int = 0


class ToolHub(Protocol):
    """Every connected MCP server behind one catalogue."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def catalogue(self) -> list[ToolSpec]: ...

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> ToolResult: ...

    def status(self) -> list[ServerStatus]: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...
