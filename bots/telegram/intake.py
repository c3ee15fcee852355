"""Telegram updates in, exactly once: each update is claimed and recorded before it is
acknowledged, and a duplicate never reaches a handler.

Both ways an update arrives go through the Application's update queue: the poller puts each
fetched update there before its next getUpdates (which confirms the offset to Telegram), and the
webhook handler puts it there before answering 200. So `IntakeQueue.put` is the one place that
records an update before Telegram learns we have it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import Update

PLATFORM = "telegram"

Accept = Callable[[Update], Awaitable[bool]]


def update_key(update: Update) -> str:
    return f"{PLATFORM}:update:{update.update_id}"


def event_keys(update: Update) -> list[str]:
    """The other identities of the same event: a message in a chat, a button press."""
    keys = []
    message = update.message or update.channel_post
    if message is not None:
        keys.append(f"{PLATFORM}:message:{message.chat.id}:{message.message_id}")
    if update.callback_query is not None:
        keys.append(f"{PLATFORM}:callback:{update.callback_query.id}")
    return keys


class IntakeQueue(asyncio.Queue[object]):
    """The Application's update queue; `put` returns once the update is recorded (or dropped
    as a duplicate), so the offset confirmation and the webhook's 200 come after the record."""

    def __init__(self, accept: Accept | None = None) -> None:
        super().__init__()
        self.accept = accept

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self.accept is not None and not await self.accept(item):
            return
        await super().put(item)
