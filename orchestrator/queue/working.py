"""While a worker runs a person's job: the platform's "typing…" in the job's chat, topic or
thread (issue 31), as the single-process adapters show it. A sender offers it with an optional
`show_typing(chat_id, thread_id)` (Telegram sendChatAction, Discord's typing endpoint); a
scheduled run shows none (no one is waiting), and a failure to show it never matters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from orchestrator.messages import Origin
from orchestrator.queue.base import ReplySender
from orchestrator.queue.job import Job

log = logging.getLogger(__name__)

TYPING_EVERY = 4.0  # Telegram shows a chat action for 5 s, Discord typing for 10 s

ShowTyping = Callable[[str, str | None], Awaitable[None]]


@contextlib.asynccontextmanager
async def typing_shown(job: Job, senders: Mapping[str, ReplySender]) -> AsyncIterator[None]:
    """Keep "typing…" up in the job's conversation for as long as the block runs."""
    show: ShowTyping | None = getattr(senders.get(job.message.platform), "show_typing", None)
    if show is None or job.message.origin is not Origin.PERSON:
        yield
        return
    task = asyncio.create_task(_keep(show, job.message.chat_id, job.message.thread_id))
    try:
        yield
    finally:
        task.cancel()


async def _keep(show: ShowTyping, chat_id: str, thread_id: str | None) -> None:
    while True:
        try:
            await show(chat_id, thread_id)
        except Exception as exc:  # noqa: BLE001 - typing is a courtesy
            log.debug("worker_typing_failed chat=%s error=%s", chat_id, type(exc).__name__)
            return
        await asyncio.sleep(TYPING_EVERY)
