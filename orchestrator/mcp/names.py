"""Exact, reversible mapping between (server, tool) and LLM-safe function names.

OpenAI-style function names must match ^[a-zA-Z0-9_-]{1,64}$. Server names cannot contain "__"
(config validation forbids it), so "server__tool" splits back unambiguously; names that would be
too long or hold other characters get a short hash suffix and are looked up in the table.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from orchestrator.mcp.tools import ToolSpec

SEPARATOR = "__"
_SAFE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_UNSAFE_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def _candidate(server: str, tool: str) -> str:
    return f"{server}{SEPARATOR}{tool}"


def _hashed(server: str, tool: str) -> str:
    digest = hashlib.sha1(f"{server}/{tool}".encode()).hexdigest()[:8]
    base = _UNSAFE_CHARS.sub("_", _candidate(server, tool))
    return f"{base[: 64 - 9]}_{digest}"


class ToolNameMap:
    """Two dictionaries kept in step: safe name -> (server, tool) and back."""

    def __init__(self, tools: Iterable[ToolSpec] = ()) -> None:
        self._to_safe: dict[tuple[str, str], str] = {}
        self._from_safe: dict[str, tuple[str, str]] = {}
        for tool in tools:
            self.add(tool.server, tool.name)

    def add(self, server: str, tool: str) -> str:
        key = (server, tool)
        if key in self._to_safe:
            return self._to_safe[key]
        name = _candidate(server, tool)
        if not _SAFE.match(name) or name in self._from_safe:
            name = _hashed(server, tool)
        self._to_safe[key] = name
        self._from_safe[name] = key
        return name

    def safe_name(self, server: str, tool: str) -> str:
        return self._to_safe.get((server, tool)) or self.add(server, tool)

    def resolve(self, safe: str) -> tuple[str, str] | None:
        """The (server, tool) behind a name the LLM sent, or None if we never issued it."""
        return self._from_safe.get(safe)
