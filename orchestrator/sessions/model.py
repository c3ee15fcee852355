"""A chat's short-term state: recent turns, pending confirmations, settings."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


def estimate_tokens(text: str) -> int:
    """About four characters a token for English text (cl100k_base averages close to that);
    close enough to bound a prompt without loading a tokenizer on every message."""
    return (len(text) + 3) // 4


@dataclass(slots=True)
class Turn:
    role: str  # "user" | "assistant"
    text: str
    user_id: str = ""
    ts: float = 0.0


@dataclass(slots=True)
class PendingConfirmation:
    """A write tool waiting for a button press by `user_id` (or an admin)."""

    id: str
    user_id: str
    server: str
    tool: str
    arguments: dict[str, Any]
    expires_at: float


@dataclass(slots=True)
class Session:
    turns: list[Turn] = field(default_factory=list)
    pending: dict[str, PendingConfirmation] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)

    def add_turn(self, turn: Turn, max_turns: int, max_tokens: int) -> None:
        """Append, then drop the oldest turns beyond the count and token bounds."""
        self.turns.append(turn)
        del self.turns[: max(0, len(self.turns) - max_turns)]
        while len(self.turns) > 1 and sum(estimate_tokens(t.text) for t in self.turns) > max_tokens:
            self.turns.pop(0)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> Session:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(
            turns=[Turn(**t) for t in data.get("turns", [])],
            pending={k: PendingConfirmation(**v) for k, v in data.get("pending", {}).items()},
            settings=dict(data.get("settings", {})),
        )
