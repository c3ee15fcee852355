"""The LLM seam over any OpenAI-compatible chat-completions API (OpenAI, Ollama, vLLM ...)."""

from __future__ import annotations

import json
import logging
from typing import Any

import openai

from orchestrator.config import LLMSettings
from orchestrator.errors import LLMError
from orchestrator.llm.base import LLMTurn, ToolCall

log = logging.getLogger(__name__)


class OpenAICompatibleLLM:
    """Function calling through the official `openai` client; retries are the client's own."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self._client = openai.AsyncOpenAI(
            api_key=settings.api_key or "not-needed",
            base_url=settings.base_url or None,
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMTurn:
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
        }
        if tools:
            kwargs["tools"] = tools
        try:
            response = await self._client.chat.completions.create(**kwargs)
        except openai.APIStatusError as exc:
            log.warning("llm_error status=%s type=%s", exc.status_code, type(exc).__name__)
            raise LLMError(f"the language model answered HTTP {exc.status_code}") from None
        except openai.APIError as exc:
            log.warning("llm_error type=%s", type(exc).__name__)
            raise LLMError("the language model could not be reached") from None
        if not response.choices:
            raise LLMError("the language model returned no answer")
        return _to_turn(response)

    async def close(self) -> None:
        await self._client.close()


def _to_turn(response: Any) -> LLMTurn:
    message = response.choices[0].message
    calls = []
    for call in message.tool_calls or []:
        raw = call.function.arguments or "{}"
        try:
            arguments = json.loads(raw)
        except json.JSONDecodeError:
            arguments = None
        valid = isinstance(arguments, dict)
        calls.append(
            ToolCall(
                call.id, call.function.name, arguments if valid else {}, raw, malformed=not valid
            )
        )
    usage = {}
    if response.usage is not None:
        usage = {
            "prompt_tokens": response.usage.prompt_tokens,
            "completion_tokens": response.usage.completion_tokens,
        }
    return LLMTurn(content=message.content, tool_calls=tuple(calls), usage=usage)
