"""Scheduled runs through the queue: the scheduler only enqueues; a worker runs and posts.

The job id is schedule + slot, so two processes that both fire a slot queue it once, and a
worker that dies mid-run leaves the job for another worker instead of losing the week's report.
"""

from __future__ import annotations

from orchestrator.queue.job import Job
from orchestrator.queue.producer import RedisJobQueue
from orchestrator.scheduling.engine import Runner
from orchestrator.scheduling.store import Schedule
from orchestrator.scheduling.wiring import as_message


def scheduled_job(schedule: Schedule) -> Job:
    slot = schedule.last_run_at or schedule.next_run_at
    stamp = int(slot.timestamp()) if slot is not None else 0
    return Job(
        id=f"schedule:{schedule.id}:{stamp}",
        message=as_message(schedule),
        target_platform=schedule.target_platform,
        target_chat_id=schedule.target_chat_id,
        header=f"Scheduled {schedule.id}: {schedule.what}",
    )


def queued_runner(queue: RedisJobQueue) -> Runner:
    async def run(schedule: Schedule) -> None:
        await queue.enqueue(scheduled_job(schedule))

    return run
