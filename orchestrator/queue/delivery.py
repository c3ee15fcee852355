"""One job, start to end: run the request once, then post each reply part once.

The outbox decides what is left to do: a job retried after its worker died reuses the recorded
replies (the request and its tools do not run again) and skips parts already claimed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from orchestrator.messages import ChatMessage, Reply, ReplyKind
from orchestrator.queue.base import NoSender, ReplySender, SendNotDelivered
from orchestrator.queue.job import Job
from orchestrator.queue.outbox import Outbox, PartState

log = logging.getLogger(__name__)

Handle = Callable[[ChatMessage], Awaitable[list[Reply]]]
BeforeSend = Callable[[], Awaitable[None]]


async def answers(job: Job, handle: Handle, outbox: Outbox) -> list[Reply]:
    """The job's replies: recorded by an earlier run, or computed now and recorded."""
    replies = await outbox.recorded(job.id)
    if replies is None:
        replies = await outbox.result(job.id, await handle(job.message))
    else:
        log.info("job_resumed job=%s replies=%d", job.id, len(replies))
    if job.header and replies:
        return [Reply(job.header, ReplyKind.NOTICE), *replies]
    return replies


async def post(
    job: Job,
    replies: list[Reply],
    senders: Mapping[str, ReplySender],
    outbox: Outbox,
    before_send: BeforeSend,
) -> int:
    """Send every part not sent before; how many were sent now. `before_send` raises when this
    worker may no longer post for the job's partition (its lease is gone)."""
    sender = senders.get(job.target_platform)
    if sender is None:
        raise NoSender(job.target_platform)
    sent = 0
    for part in sender.render(replies):
        await before_send()
        state = await outbox.claim_part(job.id, part.index)
        if state is PartState.SENT:
            continue
        if state is PartState.UNCONFIRMED:
            action = "resend" if sender.idempotent else "skip"
            target = f"{job.target_platform}:{job.target_chat_id}"
            topic = job.message.thread_id or ""
            await outbox.report_unconfirmed(job.id, part.index, action, target, topic)
            if not sender.idempotent:
                continue
        try:
            key = f"{job.id}:{part.index}"
            thread = job.message.thread_id  # a topic/thread (only ever set for its own chat)
            platform_id = await sender.send(
                job.target_chat_id, part, job.reply_to, key, thread_id=thread
            )
        except SendNotDelivered:
            await outbox.part_not_delivered(job.id, part.index)
            raise
        await outbox.part_sent(job.id, part.index, platform_id)
        sent += 1
    return sent
