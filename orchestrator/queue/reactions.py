"""Reactions in distributed mode (issue 31): the front end reacts 👀 when it queues a person's
message; the worker, once the answer is posted, sets ✅ or ❌ through the platform's sender.
A reaction never fails or delays a job: it is bounded in time and its errors are logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, runtime_checkable

from orchestrator.config import Config
from orchestrator.messages import Reply
from orchestrator.queue.base import ReplySender
from orchestrator.queue.job import Job
from orchestrator.reactions import Outcome, outcome_of, reactions_wanted

log = logging.getLogger(__name__)

AfterPost = Callable[[Job, list[Reply]], Awaitable[None]]
TIMEOUT = 5.0  # the answer is out; the job's ack waits at most this


@runtime_checkable
class ReactingSender(Protocol):
    """A sender that can react on a message (replacing the bot's 👀 there)."""

    async def react(self, chat_id: str, message_id: str, outcome: Outcome) -> None: ...


def job_reactions(config: Callable[[], Config], senders: Mapping[str, ReplySender]) -> AfterPost:
    """What a worker does after posting a job's answer: ✅ or ❌ on the asking message."""

    async def after_post(job: Job, replies: list[Reply]) -> None:
        message = job.message
        asked_here = job.target_platform == message.platform and job.target_chat_id == (
            message.chat_id
        )
        if not (job.reply_to and message.from_person and job.header is None and asked_here):
            return  # a scheduled run, or a post elsewhere: no asking message to react on
        if not reactions_wanted(config(), message):
            return
        sender = senders.get(job.target_platform)
        if not isinstance(sender, ReactingSender):
            return
        outcome = outcome_of(replies)
        try:
            await asyncio.wait_for(sender.react(job.target_chat_id, job.reply_to, outcome), TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - a reaction never fails a job
            log.warning(
                "reaction_failed platform=%s chat=%s message=%s outcome=%s error=%s",
                job.target_platform,
                job.target_chat_id,
                job.reply_to,
                outcome.value,
                type(exc).__name__,
            )
            return
        log.info(
            "reaction_set platform=%s chat=%s message=%s outcome=%s",
            job.target_platform,
            job.target_chat_id,
            job.reply_to,
            outcome.value,
        )

    return after_post
