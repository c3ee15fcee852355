"""A scheduled run's message says it is a schedule's text, also after a trip through the queue
to a worker, so a worker gives it the schedule's approvals and never a person's."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.messages import ChatMessage, Origin
from orchestrator.queue.job import message_from_dict, message_to_dict
from orchestrator.queue.scheduled import scheduled_job
from orchestrator.scheduling.store import Schedule
from orchestrator.scheduling.when import when_from_dict


def schedule() -> Schedule:
    return Schedule(
        id="k7m2q",
        platform="telegram",
        chat_id="77",
        creator_id="77",
        creator_name="Ann",
        when_text="daily at 9",
        when=when_from_dict({"kind": "cron", "expr": "0 9 * * *", "tz": "UTC"}),
        what='/run probe delete_records {"table": "customers"}',
        timezone="UTC",
        target_platform="telegram",
        target_chat_id="77",
        next_run_at=datetime(2030, 1, 1, 9, tzinfo=UTC),
        approved_tools=("clickup/create_task",),
    )


def test_a_queued_scheduled_run_keeps_its_origin_and_only_its_approvals() -> None:
    sent = scheduled_job(schedule()).message
    received = message_from_dict(message_to_dict(sent))
    assert received.origin is Origin.SCHEDULE and not received.from_person
    assert received.approved_tools == frozenset({"clickup/create_task"})


def test_a_queued_person_message_stays_a_persons() -> None:
    typed = ChatMessage("telegram", "77", "77", "/run probe delete_records {}")
    assert message_from_dict(message_to_dict(typed)).origin is Origin.PERSON


def test_a_scheduled_job_queued_by_an_older_version_is_still_a_schedule() -> None:
    doc = message_to_dict(scheduled_job(schedule()).message)
    del doc["origin"], doc["approved_tools"]
    assert message_from_dict(doc).origin is Origin.SCHEDULE
