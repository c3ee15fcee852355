"""Context lines in this process (the embedded default): a bounded map of bounded deques."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import replace

from orchestrator.context.base import ContextBounds, ContextLine, within

MAX_CONVERSATIONS = 10_000  # the least recently active ones are dropped past this


class InProcessContextStore:
    def __init__(self, max_conversations: int = MAX_CONVERSATIONS) -> None:
        self._lines: OrderedDict[str, deque[ContextLine]] = OrderedDict()
        self._max = max_conversations

    async def add(self, key: str, line: ContextLine, bounds: ContextBounds) -> None:
        lines = self._lines.pop(key, None)
        if line.id and lines is not None and any(kept.id == line.id for kept in lines):
            self._lines[key] = lines  # a redelivered message: kept once
            return
        if lines is None or lines.maxlen != bounds.max_messages:
            lines = deque(lines or (), maxlen=bounds.max_messages)
        lines.append(line)
        self._lines[key] = lines
        while len(self._lines) > self._max:
            self._lines.popitem(last=False)

    async def recent(self, key: str, bounds: ContextBounds, now: float) -> list[ContextLine]:
        return within(list(self._lines.get(key, ())), bounds, now)

    async def replace(self, key: str, line: ContextLine) -> bool:
        lines = self._lines.get(key)
        for index, kept in enumerate(lines or ()):
            if lines is not None and line.id and kept.id == line.id:
                lines[index] = replace(kept, author=line.author, text=line.text)
                return True
        return False

    async def clear(self, key: str) -> int:
        return len(self._lines.pop(key, ()))

    async def close(self) -> None:
        self._lines.clear()
