"""Sampling: a server asks the bot's LLM for a completion during a tool call.

Off unless the server's config says `sampling: true` (the SDK then declares the capability);
at most `sampling_per_minute` requests a minute per server; the tokens are charged to the
requester's daily budget (and refused when it is spent), and every request is audited. The
server's messages are data for the model: its system prompt is not ours to obey, so it travels
as a quoted user message under our own system prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import mcp_types as types
from aiolimiter import AsyncLimiter

from orchestrator.audit import audit
from orchestrator.config import Config, ServerSettings
from orchestrator.config.models import LimitSettings
from orchestrator.errors import LLMError
from orchestrator.llm.base import LLM
from orchestrator.mcp.extras import RequestScope
from orchestrator.mcp.server_extras import content_text

log = logging.getLogger(__name__)

SYSTEM = (
    "An MCP tool server asks for a completion while it runs a request. Answer its last "
    "message; the server's own instructions, if any, are quoted in the first user message."
)


class Budgets(Protocol):
    """The part of `admin.budgets.TokenBudgets` sampling uses."""

    async def refusal(
        self, limits: LimitSettings, platform: str, chat_id: str, user_id: str
    ) -> str | None: ...

    async def charge(self, platform: str, chat_id: str, user_id: str, tokens: int) -> None: ...


class Sampler:
    """The SampleHook: rate limit, budget, the LLM call, the audit record."""

    def __init__(
        self,
        llm: Callable[[], LLM | None],
        config: Callable[[], Config],
        budgets: Callable[[], Budgets | None],
    ) -> None:
        self._llm, self._config, self._budgets = llm, config, budgets
        self._limiters: dict[tuple[str, int], AsyncLimiter] = {}

    def _limiter(self, server: str, per_minute: int) -> AsyncLimiter:
        key = (server, per_minute)
        if key not in self._limiters:
            self._limiters[key] = AsyncLimiter(per_minute, 60)
        return self._limiters[key]

    async def __call__(
        self,
        server: str,
        settings: ServerSettings,
        scope: RequestScope | None,
        params: types.CreateMessageRequestParams,
    ) -> types.CreateMessageResult | types.ErrorData:
        refusal = await self._refusal(server, settings, scope)
        if refusal is not None:
            log.warning("sampling_refused server=%s reason=%s", server, refusal)
            _audit(server, scope, "refused", refusal)
            return types.ErrorData(
                code=types.INVALID_REQUEST, message=f"sampling refused: {refusal}"
            )
        llm = self._llm()
        assert llm is not None  # checked in _refusal
        messages = [{"role": "system", "content": SYSTEM}]
        if params.system_prompt:
            messages.append(
                {"role": "user", "content": f"[server instructions]\n{params.system_prompt}"}
            )
        for m in params.messages:
            text = "\n".join(content_text(block) for block in m.content_as_list)
            messages.append({"role": m.role, "content": text})
        try:
            turn = await llm.complete(messages, [])
        except LLMError as exc:
            _audit(server, scope, "error")
            return types.ErrorData(code=types.INTERNAL_ERROR, message=f"the model failed: {exc}")
        tokens = int(turn.usage.get("total_tokens", 0)) or int(
            turn.usage.get("prompt_tokens", 0)
        ) + int(turn.usage.get("completion_tokens", 0))
        await self._charge(scope, tokens)
        log.info("sampling_done server=%s tokens=%d", server, tokens)
        _audit(server, scope, "ok", f"tokens={tokens}")
        model = str(getattr(getattr(llm, "settings", None), "model", "") or "bot-llm")
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=turn.content or ""),
            model=model,
            stop_reason="maxTokens" if turn.cut else "endTurn",
        )

    async def _refusal(
        self, server: str, settings: ServerSettings, scope: RequestScope | None
    ) -> str | None:
        if not settings.sampling:
            return "sampling is off for this server"
        if self._llm() is None:
            return "no language model is configured"
        if scope is None:
            return "no single request to charge it to"
        budgets = self._budgets()
        if budgets is not None:
            m = scope.message
            spent = await budgets.refusal(self._config().limits, m.platform, m.chat_id, m.user_id)
            if spent:
                return "the requester's token budget is spent"
        limiter = self._limiter(server, settings.sampling_per_minute)
        if not limiter.has_capacity():
            return f"over {settings.sampling_per_minute} requests a minute"
        await limiter.acquire()
        return None

    async def _charge(self, scope: RequestScope | None, tokens: int) -> None:
        budgets = self._budgets()
        if budgets is None or scope is None or tokens <= 0:
            return
        m = scope.message
        await budgets.charge(m.platform, m.chat_id, m.user_id, tokens)


def _audit(server: str, scope: RequestScope | None, outcome: str, detail: str = "") -> None:
    """One record, for the requester (the server's request runs outside their task)."""
    who = scope.message if scope is not None else None
    audit(
        "sampling",
        tool=f"{server}/sampling",
        outcome=outcome,
        detail=detail,
        platform=who.platform if who else None,
        chat_id=who.chat_id if who else None,
        user_id=who.user_id if who else None,
    )
