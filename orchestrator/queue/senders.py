"""Reply senders are plugins, like chat platforms: `bots/` registers one per platform under the
`orchestrator.senders` entry point group, so the queue never imports `bots`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from orchestrator.config import Config
from orchestrator.messages import Reply
from orchestrator.queue.base import ReplySender

GROUP = "orchestrator.senders"
log = logging.getLogger(__name__)

SenderFactory = Callable[[Config], ReplySender | None]


def load_senders(config: Config) -> dict[str, ReplySender]:
    """A sender for every installed platform whose credentials the config holds."""
    senders: dict[str, ReplySender] = {}
    for entry in entry_points(group=GROUP):
        factory: SenderFactory = entry.load()
        sender = factory(config)
        if sender is None:
            log.info("sender_skipped platform=%s reason=not_configured", entry.name)
            continue
        senders[sender.platform] = sender
    return senders


class SenderAdapter:
    """A sender as a `ChatAdapter`, so a worker's commands and schedule notes can post."""

    def __init__(self, sender: ReplySender) -> None:
        self.sender = sender
        self.platform = sender.platform

    async def send(
        self, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> None:
        for part in self.sender.render(list(replies)):
            await self.sender.send(chat_id, part, None, thread_id=thread_id)
