"""Reactions on the asking message (issue 31): 👀 when a request is taken, ✅ or ❌ when it ends.

Shared by the adapters; each gives a `React` that sets one emoji on the message (replacing the
one before it where the platform does not). Reactions run beside the work, never in its way: a
slow or refused reaction is logged and forgotten, and the answer goes out regardless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.config import Config
from orchestrator.messages import ChatMessage, Reply
from orchestrator.reactions import Outcome, outcome_of, reactions_wanted

log = logging.getLogger(__name__)

# Set `emoji` on the asking message; `replacing` is the bot's earlier reaction there, if any.
React = Callable[[str, str | None], Awaitable[None]]
TAKEN_WAIT = 10.0  # how long the final reaction waits for the 👀 call before going on


@dataclass(frozen=True, slots=True)
class Emoji:
    taken: str = "👀"
    done: str = "✅"
    failed: str = "❌"

    def of(self, outcome: Outcome) -> str:
        return {Outcome.TAKEN: self.taken, Outcome.DONE: self.done, Outcome.FAILED: self.failed}[
            outcome
        ]


DISCORD_EMOJI = Emoji()
# Telegram's fixed reaction set has no ✅ or ❌.
TELEGRAM_EMOJI = Emoji(taken="👀", done="👍", failed="👎")


class Reactions:
    def __init__(self, config: Callable[[], Config], emoji: Emoji, platform: str) -> None:
        self._config = config
        self.emoji = emoji
        self._platform = platform
        self._tasks: set[asyncio.Task[None]] = set()

    def enabled(self) -> bool:
        """Reactions may be used at all (each chat may still turn them off)."""
        return self._config().reactions.enabled

    def taken(self, message: ChatMessage, react: React) -> asyncio.Task[None] | None:
        """React 👀 now (in the background); the handle to pass to `ended`, or None when off."""
        if not reactions_wanted(self._config(), message):
            return None
        return self._spawn(self._safe(react, self.emoji.taken, None, message))

    def ended(
        self,
        first: asyncio.Task[None] | None,
        message: ChatMessage,
        replies: Sequence[Reply],
        react: React,
    ) -> None:
        """Replace 👀 with ✅ or ❌, after the 👀 call has finished (or given up)."""
        if first is None:
            return
        emoji = self.emoji.of(outcome_of(replies))

        async def after() -> None:
            await asyncio.wait({first}, timeout=TAKEN_WAIT)
            await self._safe(react, emoji, self.emoji.taken, message)

        self._spawn(after())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _safe(
        self, react: React, emoji: str, replacing: str | None, message: ChatMessage
    ) -> None:
        try:
            await react(emoji, replacing)
        except Exception as exc:  # noqa: BLE001 - a reaction never blocks or fails a request
            log.warning(
                "reaction_failed platform=%s chat=%s message=%s emoji=%s error=%s",
                self._platform,
                message.chat_id,
                message.message_id,
                emoji,
                type(exc).__name__,
            )
            return
        log.info(
            "reaction_set platform=%s chat=%s message=%s emoji=%s",
            self._platform,
            message.chat_id,
            message.message_id,
            emoji,
        )
