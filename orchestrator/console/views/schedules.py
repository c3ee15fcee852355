"""Schedules: every chat's schedules with their next runs (in the schedule's own timezone) and
run history; pause, resume, run now (at the scheduler's next tick) and delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from orchestrator.console.pages import acting, audited, back, console_of, render, signed_in
from orchestrator.errors import OrchestratorError
from orchestrator.scheduling.describe import describe
from orchestrator.scheduling.engine import Scheduler
from orchestrator.scheduling.when import next_runs

ACTIONS = ("pause", "resume", "run", "delete")


def scheduler_of(request: Request) -> Scheduler | None:
    scheduler = console_of(request).host.scheduler
    return scheduler if isinstance(scheduler, Scheduler) else None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(when: datetime | None, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if when else "—"


async def schedules(request: Request) -> Response:
    person = signed_in(request)
    scheduler = scheduler_of(request)
    rows: list[dict[str, Any]] = []
    if scheduler is not None:
        now = scheduler.clock.now()
        for s in sorted(await scheduler.store.all(), key=lambda s: (s.chat_key, s.id)):
            zone = _zone(s.timezone)
            upcoming = [] if s.paused else next_runs(s.when, now, 3)
            runs = await scheduler.store.runs(s.id, 5)
            rows.append(
                {
                    "s": s,
                    "describe": describe(s.when),
                    "zone": zone.key,
                    "next": [_local(t, zone) for t in upcoming],
                    "runs": [
                        {
                            "at": _local(r.scheduled_for, zone),
                            "outcome": r.outcome,
                            "ms": int(r.duration_ms),
                            "tools": ", ".join(r.tools),
                            "error": r.error,
                        }
                        for r in runs
                    ],
                }
            )
    return render(request, "schedules", person, rows=rows, enabled=scheduler is not None)


async def schedule_action(request: Request) -> Response:
    person, _form = await acting(request)
    scheduler = scheduler_of(request)
    action, sid = request.path_params["action"], request.path_params["sid"]
    if scheduler is None or action not in ACTIONS:
        raise HTTPException(404)
    schedule = await scheduler.store.get(sid)
    if schedule is None:
        return back(request, "/dashboard/schedules", f"No schedule {sid}.")
    who = person.bare_id
    try:
        if action == "pause":
            await scheduler.pause(schedule.chat_key, sid, who, True)
        elif action == "resume":
            await scheduler.resume(schedule.chat_key, sid, who, True)
        elif action == "delete":
            await scheduler.remove(schedule.chat_key, sid, who, True)
        elif schedule.paused:
            return back(
                request, "/dashboard/schedules", f"Schedule {sid} is paused: resume it first."
            )
        else:  # run now: due at once; the scheduler's next tick claims and runs it once
            await scheduler.store.patch(sid, next_run_at=scheduler.clock.now())
    except OrchestratorError as exc:
        audited(person, f"schedule_{action}", f"{sid}: {exc}", outcome="error")
        return back(request, "/dashboard/schedules", str(exc))
    audited(person, f"schedule_{action}", sid)
    done = {"run": "will run at the next tick", "delete": "deleted"}.get(action, f"{action}d")
    return back(request, "/dashboard/schedules", f"Schedule {sid} {done}.")
