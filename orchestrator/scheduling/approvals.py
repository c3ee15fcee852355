"""Standing approvals: the write tools a schedule may use on every run without a button.

At creation the creator is shown the write tools the request is likely to use (routed now) and
approves them once. A run that reaches a write tool not approved this way posts a confirmation
to the creator instead of running it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from orchestrator.messages import ChatMessage, Choice, Reply
from orchestrator.scheduling.engine import Scheduler
from orchestrator.scheduling.errors import ScheduleForbidden, ScheduleNotFound
from orchestrator.scheduling.store import Schedule

log = logging.getLogger(__name__)


def approval_offer(schedule: Schedule, write_tools: Sequence[str]) -> Reply | None:
    """The question shown after /schedule when its runs will likely use write tools."""
    if not write_tools:
        return None
    names = ", ".join(write_tools)
    return Reply(
        f"Runs of {schedule.id} will likely use tools that change things: {names}. Approve them "
        f"once for this schedule, or each run will ask {schedule.creator_name} first.",
        choices=(
            Choice("Approve for every run", f"/approve {schedule.id} {','.join(write_tools)}"),
        ),
        for_user_id=schedule.creator_id,
    )


async def approve_tools(
    scheduler: Scheduler, message: ChatMessage, is_admin: bool, schedule_id: str, tools: str
) -> str:
    """Add standing approvals to a schedule (its creator or an admin)."""
    schedule = await scheduler.store.get(schedule_id.strip().lower())
    if schedule is None or schedule.chat_key != message.chat_key:
        raise ScheduleNotFound(f"There is no schedule {schedule_id} in this chat (see /schedules).")
    if schedule.creator_id != message.user_id and not is_admin:
        raise ScheduleForbidden(
            f"Only {schedule.creator_name} (who created {schedule.id}) or an admin can approve "
            "its tools."
        )
    wanted = [t.strip() for t in tools.replace(" ", ",").split(",") if "/" in t.strip()]
    if not wanted:
        raise ScheduleNotFound(
            "Name the tools to approve as server/tool, e.g. clickup/create_task."
        )
    approved = tuple(dict.fromkeys([*schedule.approved_tools, *wanted]))
    await scheduler.store.patch(schedule.id, approved_tools=approved)
    log.info("schedule_tools_approved id=%s tools=%s", schedule.id, ",".join(approved))
    return f"Approved for every run of {schedule.id}: {', '.join(approved)}."
