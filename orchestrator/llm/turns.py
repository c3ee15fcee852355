"""Build one `LLMTurn` from what a server sent: a whole message, or streamed deltas.

Servers differ: `content` may be null, tool calls may arrive only in deltas (split over many
chunks), ids may be long or missing, and older servers send one legacy `function_call`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from orchestrator.llm.base import LLMTurn, ToolCall


def make_call(call_id: str | None, name: str, raw: str | None) -> ToolCall:
    raw = raw or "{}"
    try:
        arguments = json.loads(raw)
    except json.JSONDecodeError:
        arguments = None
    valid = isinstance(arguments, dict)
    return ToolCall(
        call_id or f"call_{uuid.uuid4().hex[:12]}",
        name,
        arguments if valid else {},
        raw,
        malformed=not valid,
    )


def usage_of(response: Any) -> dict[str, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return {}
    return {
        "prompt_tokens": int(usage.prompt_tokens or 0),
        "completion_tokens": int(usage.completion_tokens or 0),
    }


def turn_from_message(response: Any) -> LLMTurn:
    """A non-streamed chat completion."""
    choice = response.choices[0]
    message = choice.message
    calls = [
        make_call(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []
    ]
    legacy = getattr(message, "function_call", None)
    if not calls and legacy is not None and legacy.name:
        calls.append(make_call(None, legacy.name, legacy.arguments))
    return LLMTurn(
        content=message.content,
        tool_calls=tuple(calls),
        usage=usage_of(response),
        finish_reason=choice.finish_reason or "stop",
    )


@dataclass
class _Partial:
    id: str | None = None
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class StreamedTurn:
    """Accumulates chunks of a streamed completion; `turn()` once the stream ends."""

    parts: list[str] = field(default_factory=list)
    calls: dict[int, _Partial] = field(default_factory=dict)
    legacy: _Partial = field(default_factory=_Partial)
    finish_reason: str = "stop"
    usage: dict[str, int] = field(default_factory=dict)
    finished: bool = False  # a chunk carried a finish_reason: the stream was not cut

    def add(self, chunk: Any) -> str:
        """Take one chunk; returns the text it added (for progress)."""
        if getattr(chunk, "usage", None) is not None:
            self.usage = usage_of(chunk)
        added = ""
        for choice in chunk.choices or []:
            if choice.index not in (0, None):
                continue
            delta = choice.delta
            if delta is not None:
                added += self._delta(delta)
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
                self.finished = True
        return added

    def _delta(self, delta: Any) -> str:
        for piece in delta.tool_calls or []:
            index = piece.index if piece.index is not None else len(self.calls)
            partial = self.calls.setdefault(index, _Partial())
            partial.id = piece.id or partial.id
            if piece.function is not None:
                partial.name += piece.function.name or ""
                partial.arguments.append(piece.function.arguments or "")
        legacy = getattr(delta, "function_call", None)
        if legacy is not None:
            self.legacy.name += legacy.name or ""
            self.legacy.arguments.append(legacy.arguments or "")
        if delta.content:
            self.parts.append(delta.content)
            return str(delta.content)
        return ""

    @property
    def empty(self) -> bool:
        return not self.parts and not self.calls and not self.legacy.name

    def turn(self) -> LLMTurn:
        partials = [self.calls[i] for i in sorted(self.calls)]
        if not partials and self.legacy.name:
            partials = [self.legacy]
        calls = tuple(make_call(p.id, p.name, "".join(p.arguments)) for p in partials if p.name)
        content = "".join(self.parts) if self.parts else None
        return LLMTurn(content, calls, self.usage, self.finish_reason)
