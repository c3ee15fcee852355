"""The LLM seam over any OpenAI-compatible chat-completions API (OpenAI, Ollama, vLLM, llama.cpp).

Wire rules learnt from real servers: offered tools go with `tool_choice: "auto"` (llama.cpp's
server ignores tools without it); `max_tokens` is always sent. Answers are streamed, so the read
timeout measures the server's silence, not the length of the answer. Connection failures, 429
and 5xx are retried with backoff; a request the server was already answering is never resent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx2
import openai
from openai.types.chat import ChatCompletion

from orchestrator.config import LLMSettings
from orchestrator.errors import LLMError
from orchestrator.llm.base import LLMTurn
from orchestrator.llm.turns import StreamedTurn, turn_from_message
from orchestrator.mcp.backoff import backoff_delay

log = logging.getLogger(__name__)

RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 10.0


class OpenAICompatibleLLM:
    """Function calling through the official `openai` client; our own retry rules."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.where = settings.base_url or "api.openai.com"
        self._client = openai.AsyncOpenAI(
            api_key=settings.api_key or "not-needed",
            base_url=settings.base_url or None,
            timeout=openai.Timeout(
                settings.timeout_seconds, connect=settings.connect_timeout_seconds
            ),
            max_retries=0,
        )
        self._no_streamed_tools = False

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMTurn:
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
        }
        if tools:
            kwargs["tools"] = tools
            kwargs["tool_choice"] = "auto"
        attempt = 0
        while True:
            try:
                return await self._once(kwargs)
            except openai.APIStatusError as exc:
                if exc.status_code in RETRY_STATUSES and attempt < self.settings.max_retries:
                    await self._wait(attempt, exc.response.headers.get("retry-after"), exc)
                    attempt += 1
                    continue
                raise self._status_error(exc) from None
            except (openai.APITimeoutError, httpx2.TimeoutException) as exc:
                connecting = isinstance(exc.__cause__ or exc, httpx2.ConnectTimeout)
                if connecting and attempt < self.settings.max_retries:
                    await self._wait(attempt, None, exc)
                    attempt += 1
                    continue
                raise self._timeout_error(connecting) from None
            except openai.APIConnectionError as exc:
                if attempt < self.settings.max_retries:
                    await self._wait(attempt, None, exc)
                    attempt += 1
                    continue
                raise LLMError(
                    f"I cannot connect to the language model server at {self.where}. Check that "
                    "it is running and that `OPENAI_BASE_URL` (llm_settings.base_url) is right."
                ) from None
            except httpx2.TransportError as exc:
                log.warning("llm_stream_broken error=%s", type(exc).__name__)
                raise LLMError(
                    f"The language model server at {self.where} dropped the connection while "
                    "answering. Try again; if it repeats, check the server's log."
                ) from None

    async def _once(self, kwargs: dict[str, Any]) -> LLMTurn:
        tools = "tools" in kwargs
        if self.settings.stream and not (tools and self._no_streamed_tools):
            built = await self._streamed(kwargs)
            if isinstance(built, LLMTurn):
                return built
            if built.finished:
                return built.turn()
            if not (tools and built.empty):
                raise LLMError(
                    f"The language model server at {self.where} ended its answer midway. "
                    "Try again; if it repeats, check the server's log."
                )
            # The stream broke before any output: some servers (llama-cpp-python's
            # chatml-function-calling) cannot stream tool choice. Ask unstreamed from now on.
            log.warning("llm_streamed_tools_unsupported where=%s; not streaming tools", self.where)
            self._no_streamed_tools = True
        response = await self._client.chat.completions.create(**kwargs)
        if not response.choices:
            raise LLMError("The language model returned no answer (no choices).")
        return turn_from_message(response)

    async def _streamed(self, kwargs: dict[str, Any]) -> StreamedTurn | LLMTurn:
        """The streamed answer; a server that answers a streamed request with one plain
        `chat.completion` JSON body (some do) gets that read as one completion."""
        # include_usage: the token count arrives in a last chunk (budgets read it); servers
        # that do not know the option ignore it.
        stream = await self._client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        built = StreamedTurn()
        async with stream:
            kind = stream.response.headers.get("content-type", "")
            if kind.split(";")[0].strip().lower() == "application/json":
                log.info("llm_stream_answered_plain where=%s", self.where)
                return _plain_completion(await stream.response.aread())
            async for chunk in stream:
                built.add(chunk)
        return built

    async def _wait(self, attempt: int, retry_after: str | None, exc: Exception) -> None:
        delay = backoff_delay(attempt, base=0.5, cap=8.0)
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = min(MAX_RETRY_AFTER, max(0.0, float(retry_after)))
        log.warning(
            "llm_retry attempt=%d error=%s delay_s=%.1f", attempt + 1, type(exc).__name__, delay
        )
        await asyncio.sleep(delay)

    def _timeout_error(self, connecting: bool) -> LLMError:
        if connecting:
            return LLMError(
                f"The language model server at {self.where} did not accept a connection within "
                f"{self.settings.connect_timeout_seconds:g} s. Check that it is running."
            )
        log.warning("llm_timeout read_s=%s", self.settings.timeout_seconds)
        return LLMError(
            f"The language model server at {self.where} went silent for "
            f"{self.settings.timeout_seconds:g} s (it may be busy); I did not resend the request. "
            "Try again, or raise `llm_settings.timeout_seconds`."
        )

    def _status_error(self, exc: openai.APIStatusError) -> LLMError:
        status = exc.status_code
        detail = _detail(exc)
        log.warning("llm_error status=%s type=%s", status, type(exc).__name__)
        if status in (401, 403):
            return LLMError(
                f"The language model server rejected the API key (HTTP {status}). "
                "Check `OPENAI_API_KEY` (llm_settings.api_key)."
            )
        if status == 404 or (status == 400 and "model" in detail and "tool" not in detail):
            return LLMError(
                f"The language model server does not know the model "
                f"'{self.settings.model}' (HTTP {status}). Set `LLM_MODEL` (llm_settings.model) "
                "to one the server lists."
            )
        if status in (400, 422, 500) and ("tool" in detail or "function" in detail):
            return LLMError(
                f"The model server refused the tools (HTTP {status}). Start it with tool calling "
                "enabled (README: LLM servers) or pick a model that can call tools."
            )
        if status == 429:
            return LLMError(
                "The language model server is rate-limiting us (HTTP 429). Try again in a minute."
            )
        return LLMError(f"The language model server failed (HTTP {status}). Try again shortly.")

    async def close(self) -> None:
        await self._client.close()


def _plain_completion(raw: bytes) -> LLMTurn:
    """One whole `chat.completion` body (sent in answer to a streamed request)."""
    try:
        response = ChatCompletion.model_validate_json(raw)
    except ValueError:
        raise LLMError(
            "The language model server answered a streamed request with JSON that is not a "
            "chat completion. Check the server's log, or set `llm_settings.stream: false`."
        ) from None
    if not response.choices:
        raise LLMError("The language model returned no answer (no choices).")
    return turn_from_message(response)


def _detail(exc: openai.APIStatusError) -> str:
    """The server's error message, lower-cased, for classifying (never shown: it may echo input)."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("message", "")).lower()
        return str(inner).lower()
    return str(exc.message).lower()
