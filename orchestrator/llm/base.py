"""The LLM seam: one chat completion with tools, whatever server answers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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
    finish_reason: str = "stop"  # "length": the answer was cut off at max_tokens

    @property
    def cut(self) -> bool:
        return self.finish_reason == "length"


class LLM(Protocol):
    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMTurn: ...
