"""Token budgets: LLM tokens per chat per day and per user per day, from the API's usage.

`MeteredLLM` wraps the LLM seam and adds each response's reported usage to the meter of the
request in progress (a context variable), so the agent loop needs no change; the core asks
`refusal()` before a request and `charge()`s the metered tokens after it. Days are UTC days
of the injected clock. Counters live in this process, or in Redis (shared by every process)
when sessions use Redis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from orchestrator import metrics, tracing
from orchestrator.clock import Clock, SystemClock
from orchestrator.config import LimitSettings
from orchestrator.llm.base import LLM, LLMTurn

log = logging.getLogger(__name__)


HISTORY_DAYS = 31  # the day counters kept for the console's usage page


@dataclass
class Meter:
    tokens: int = 0
    by_model: dict[str, int] = field(default_factory=dict)


_meter: ContextVar[Meter | None] = ContextVar("llm_meter", default=None)


@contextmanager
def metering() -> Iterator[Meter]:
    """Count the LLM tokens used inside the block (including tasks it starts)."""
    meter = Meter()
    token = _meter.set(meter)
    try:
        yield meter
    finally:
        _meter.reset(token)


def turn_tokens(turn: LLMTurn) -> int:
    usage = turn.usage or {}
    total = usage.get("total_tokens")
    if total is None:
        total = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
    return int(total)


class MeteredLLM:
    """The LLM seam, counting reported usage into the current request's meter."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> LLMTurn:
        started = time.monotonic()
        model = str(getattr(getattr(self.inner, "settings", None), "model", "") or "")
        with tracing.span("model_call", model=model, tools=len(tools)) as traced:
            turn = await self.inner.complete(messages, tools)
            usage = turn.usage or {}
            traced.set(
                tokens=turn_tokens(turn),
                prompt_tokens=int(usage.get("prompt_tokens", 0)),
                completion_tokens=int(usage.get("completion_tokens", 0)),
            )
        metrics.model_called(model, time.monotonic() - started, turn_tokens(turn))
        meter = _meter.get()
        if meter is not None:
            meter.tokens += turn_tokens(turn)
            meter.by_model[model] = meter.by_model.get(model, 0) + turn_tokens(turn)
        return turn

    async def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            await close()

    def __getattr__(self, name: str) -> Any:  # settings, model ... of the wrapped client
        return getattr(self.inner, name)


class Counters(Protocol):
    """Per-day token counters."""

    async def get(self, key: str) -> int: ...

    async def add(self, keys: Sequence[str], amount: int, ttl_seconds: int) -> list[int]:
        """Add `amount` to each counter; their new totals."""
        ...

    async def close(self) -> None: ...


class MemoryCounters:
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    async def get(self, key: str) -> int:
        return self._counts.get(key, 0)

    async def add(self, keys: Sequence[str], amount: int, ttl_seconds: int) -> list[int]:
        newest = max(_day_of(key) for key in keys)
        oldest = newest - timedelta(seconds=ttl_seconds)
        for old in [k for k in self._counts if _day_of(k) < oldest]:
            del self._counts[old]  # past its time to live, as Redis would drop it
        for key in keys:
            self._counts[key] = self._counts.get(key, 0) + amount
        return [self._counts[key] for key in keys]

    async def close(self) -> None:
        return None


class RedisCounters:
    """`INCRBY` + `EXPIRE` per counter: every process shares the day's totals."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client, self.prefix = client, f"{prefix}:budget"

    async def get(self, key: str) -> int:
        value = await self.client.get(f"{self.prefix}:{key}")
        return int(value or 0)

    async def add(self, keys: Sequence[str], amount: int, ttl_seconds: int) -> list[int]:
        """Every counter in one MULTI/EXEC: one round trip however many."""
        async with self.client.pipeline(transaction=True) as pipe:
            for key in keys:
                full = f"{self.prefix}:{key}"
                pipe.incrby(full, amount)
                pipe.expire(full, ttl_seconds)
            replies = await pipe.execute()
        return [int(total) for total in replies[::2]]

    async def close(self) -> None:
        """Its own connection pool (built for the budgets alone) goes with it."""
        await self.client.aclose()


class TokenBudgets:
    def __init__(self, counters: Counters | None = None, clock: Clock | None = None) -> None:
        self.counters: Counters = counters or MemoryCounters()
        self.clock: Clock = clock or SystemClock()

    def _day(self) -> str:
        return self.clock.now().date().isoformat()

    async def close(self) -> None:
        await self.counters.close()

    def _keys(self, platform: str, chat_id: str, user_id: str) -> tuple[str, str]:
        day = self._day()
        return f"chat:{platform}:{chat_id}:{day}", f"user:{platform}:{user_id}:{day}"

    def resets_in(self) -> timedelta:
        now = self.clock.now()
        midnight = datetime(now.year, now.month, now.day, tzinfo=now.tzinfo) + timedelta(days=1)
        return midnight - now

    async def refusal(
        self, limits: LimitSettings, platform: str, chat_id: str, user_id: str
    ) -> str | None:
        """Why this request may not use the LLM today, or None when it may."""
        chat_key, user_key = self._keys(platform, chat_id, user_id)
        checks = (
            (limits.llm_tokens_per_chat_per_day, chat_key, "This chat", "per_chat"),
            (limits.llm_tokens_per_user_per_day, user_key, "You", "per_user"),
        )
        for limit, key, who, name in checks:
            if limit is None:
                continue
            used = await self.counters.get(key)
            if used >= limit:
                log.info("budget_refused scope=%s used=%d limit=%d", name, used, limit)
                verb = "have" if who == "You" else "has"
                return (
                    f"{who} {verb} used today's {limit:,} LLM tokens "
                    f"(limits.llm_tokens_{name}_per_day); it resets at 00:00 UTC, "
                    f"in {_span(self.resets_in())}. Commands such as /run still work."
                )
        return None

    async def charge(
        self,
        platform: str,
        chat_id: str,
        user_id: str,
        tokens: int,
        by_model: Mapping[str, int] | None = None,
    ) -> None:
        """Today's counters of the chat and the person (their budgets), and of each model that
        answered (the console's usage by model). Kept HISTORY_DAYS for the console."""
        if tokens <= 0:
            return
        ttl = HISTORY_DAYS * 86400
        await self.counters.add(self._keys(platform, chat_id, user_id), tokens, ttl_seconds=ttl)
        for model, used in (by_model or {}).items():
            if used > 0:
                await self.counters.add([f"model:{model or '-'}:{self._day()}"], used, ttl)


def _day_of(key: str) -> date:
    return date.fromisoformat(key.rsplit(":", 1)[-1])


def _span(delta: timedelta) -> str:
    minutes = max(1, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
