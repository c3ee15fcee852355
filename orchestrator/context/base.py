"""The ContextStore seam: the recent messages of a conversation that were not addressed to the
bot, newest last, bounded by count and age."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ContextLine:
    """One message the bot saw but was not asked: who wrote it, what, and when (epoch seconds)."""

    author: str
    text: str
    at: float
    id: str = ""  # the platform message id: a redelivered message is kept once

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> ContextLine:
        data = json.loads(raw)
        return cls(
            str(data["author"]), str(data["text"]), float(data["at"]), str(data.get("id", ""))
        )


@dataclass(frozen=True, slots=True)
class ContextBounds:
    """How much is kept: the newest `max_messages`, none older than `max_age_seconds`."""

    max_messages: int
    max_age_seconds: float


class ContextStore(Protocol):
    """Per-conversation context lines. Every method degrades to "nothing kept" rather than
    fail a request: context is an aid, never a blocker."""

    async def add(self, key: str, line: ContextLine, bounds: ContextBounds) -> None:
        """Keep `line` (once per `line.id` within the age bound, when it has one)."""
        ...

    async def recent(self, key: str, bounds: ContextBounds, now: float) -> list[ContextLine]:
        """The lines still within `bounds` at `now`, oldest first."""
        ...

    async def replace(self, key: str, line: ContextLine) -> bool:
        """An edited message: the kept line with `line.id` takes `line`'s author and text (it
        keeps its place and time); False when no such line is kept."""
        ...

    async def clear(self, key: str) -> int:
        """Drop this conversation's lines; how many there were."""
        ...

    async def close(self) -> None: ...


def within(lines: list[ContextLine], bounds: ContextBounds, now: float) -> list[ContextLine]:
    """The newest `max_messages` of `lines` (oldest first) that are young enough."""
    oldest = now - bounds.max_age_seconds
    return [line for line in lines if line.at >= oldest][-bounds.max_messages :]
