"""The loop's guards: a repeated call is answered from the first run; a request has a token budget.

Small models often repeat one call until the step limit. The same tool with the same arguments
in one request returns the earlier result with a note, so the tool runs once and nothing is lost;
the agent loop then ends the tool phase (one last ask without tools).
"""

from __future__ import annotations

import json
from typing import Any

REPEAT_NOTE = (
    "[You already made this exact call in this request; here is its earlier result again. "
    "Do not repeat it: answer from it, or call something else.]\n"
)


def call_key(name: str, arguments: dict[str, Any]) -> str:
    """One key per tool and arguments, whatever the key order the model used."""
    return name + " " + json.dumps(arguments, sort_keys=True, ensure_ascii=False)


class RepeatGuard:
    """Results of this request's calls by `call_key`; survives a pause for approval."""

    def __init__(self, done: dict[str, str] | None = None) -> None:
        self.done: dict[str, str] = dict(done or {})

    def earlier(self, name: str, arguments: dict[str, Any]) -> str | None:
        found = self.done.get(call_key(name, arguments))
        return None if found is None else REPEAT_NOTE + found

    def record(self, name: str, arguments: dict[str, Any], output: str) -> None:
        self.done[call_key(name, arguments)] = output


class TokenBudget:
    """Tokens one request may spend; the loop stops with a clear message when they run out."""

    def __init__(self, limit: int, used: int = 0) -> None:
        self.limit, self.used = limit, used

    def spend(self, tokens: int) -> None:
        self.used += max(0, tokens)

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit
