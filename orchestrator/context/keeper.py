"""What the core does with conversation context: keep a message not addressed to the bot, hand
the recent ones to the model when it is addressed, forget them on `/forget`.

Context is kept per conversation (`conversation_key`), only where the config allows it (the
`context` section and each chat's `context:` switch), and only in memory or Redis for
`max_age_minutes`: it never reaches long-term memory, whose items are the request and the answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from orchestrator.config import Config
from orchestrator.context.base import ContextBounds, ContextLine, ContextStore
from orchestrator.messages import ChatMessage

log = logging.getLogger(__name__)

CUT_MARK = "…"


def conversation_key(message: ChatMessage) -> str:
    """Where a message's context is kept: its conversation (the chat, or its topic or thread)."""
    return message.conversation_key


def newest_within(lines: list[ContextLine], max_chars: int) -> list[ContextLine]:
    """The newest lines whose texts fit in `max_chars` together, oldest first."""
    kept: list[ContextLine] = []
    total = 0
    for line in reversed(lines):
        total += len(line.author) + len(line.text) + 10  # "[HH:MM] author: text"
        if total > max_chars:
            break
        kept.append(line)
    return kept[::-1]


class ConversationContext:
    def __init__(self, config: Callable[[], Config], store: ContextStore | None) -> None:
        self._config = config
        self.store = store

    def _bounds(self) -> ContextBounds:
        settings = self._config().context
        return ContextBounds(settings.max_messages, settings.max_age_minutes * 60)

    def enabled_for(self, message: ChatMessage) -> bool:
        config = self._config()
        policy = config.policy_for(message.chat_key)
        return (
            self.store is not None
            and config.context.enabled
            and policy.allowed
            and policy.context
            and not message.is_private
        )

    def _line(self, message: ChatMessage) -> ContextLine | None:
        """The line a message would be kept as; None when there is nothing to keep."""
        text = message.text.strip()
        if self.store is None or not self.enabled_for(message) or not text or text[0] == "/":
            return None  # nothing to keep, or a command meant for another bot
        limit = self._config().context.max_chars_per_message
        if len(text) > limit:
            text = text[: limit - 1] + CUT_MARK
        author = message.user_name or message.user_id or "someone"
        return ContextLine(author, text, time.time(), message.message_id or "")

    async def observe(self, message: ChatMessage) -> bool:
        """Keep a message the bot saw but was not asked; True when kept. Never raises."""
        line = self._line(message)
        if line is None or self.store is None:
            return False
        try:
            await self.store.add(conversation_key(message), line, self._bounds())
        except Exception as exc:  # noqa: BLE001 - context is an aid, never a blocker
            log.warning("context_add_failed chat=%s error=%s", message.chat_key, type(exc).__name__)
            return False
        return True

    async def revise(self, message: ChatMessage) -> bool:
        """An edited message: if it was kept, its kept text becomes the new one (in place);
        True when a line changed. Nothing is kept anew and nothing runs. Never raises."""
        line = self._line(message)
        if line is None or self.store is None or not line.id:
            return False
        try:
            return await self.store.replace(conversation_key(message), line)
        except Exception as exc:  # noqa: BLE001
            log.warning(
                "context_replace_failed chat=%s error=%s", message.chat_key, type(exc).__name__
            )
            return False

    async def recent(self, message: ChatMessage) -> list[ContextLine]:
        """The conversation's recent lines (oldest first), for the model; [] when off."""
        if self.store is None or not self.enabled_for(message):
            return []
        try:
            lines = await self.store.recent(conversation_key(message), self._bounds(), time.time())
        except Exception as exc:  # noqa: BLE001
            log.warning(
                "context_read_failed chat=%s error=%s", message.chat_key, type(exc).__name__
            )
            return []
        lines = newest_within(lines, self._config().context.max_total_chars)
        if lines:
            log.info("context_used chat=%s lines=%d", message.chat_key, len(lines))
        return lines

    async def forget(self, message: ChatMessage) -> int:
        """Drop the conversation's context (`/forget`); how many lines there were."""
        if self.store is None:
            return 0
        try:
            return await self.store.clear(conversation_key(message))
        except Exception as exc:  # noqa: BLE001
            log.warning(
                "context_clear_failed chat=%s error=%s", message.chat_key, type(exc).__name__
            )
            return 0

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()
