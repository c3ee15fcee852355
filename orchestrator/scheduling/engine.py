"""The scheduler: fires due runs exactly once across processes, and owns schedule changes.

Exactly once: a run is leased by schedule id + scheduled time (Redis `SET NX PX` across
processes) and the lease is renewed while the run is alive; whoever sees a slot, leased by itself
or not, moves `next_run_at` past it; the store only ever moves it forward. When a runner dies,
its lease expires and another process takes the slot over; a per-slot "posted" marker keeps the
result from being posted twice, and a "done" marker keeps a finished slot from running again.
No burst after downtime: only the latest slot missed by at most
`grace_seconds` runs; older ones are logged and skipped.

Commands and LLM tools change schedules only through `create`/`remove`/`pause`/`resume`, so the
permission checks live here, once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from orchestrator import metrics
from orchestrator.clock import Clock
from orchestrator.config import SchedulerSettings
from orchestrator.errors import OrchestratorError
from orchestrator.messages import ChatMessage
from orchestrator.scheduling.claims import InProcessRunClaims, RedisRunClaims, RunClaims, Slot
from orchestrator.scheduling.describe import describe
from orchestrator.scheduling.errors import (
    ScheduleError,
    ScheduleForbidden,
    ScheduleIdTaken,
    ScheduleLimitError,
    ScheduleNotFound,
)
from orchestrator.scheduling.history import RunHistory
from orchestrator.scheduling.store import Schedule, ScheduleStore, new_schedule_id
from orchestrator.scheduling.when import When, next_runs, shortest_gap
from orchestrator.tasks import stop_if_cancelled

log = logging.getLogger(__name__)

__all__ = ["InProcessRunClaims", "RedisRunClaims", "RunClaims", "Scheduler", "Slot"]

Runner = Callable[[Schedule], Awaitable[None]]
Notify = Callable[[Schedule, str], Awaitable[None]]



class Scheduler:
    def __init__(
        self,
        store: ScheduleStore,
        clock: Clock,
        runner: Runner,
        settings: SchedulerSettings,
        claims: RunClaims | None = None,
        *,
        notify: Notify | None = None,
    ) -> None:
        self.store, self.clock, self.runner, self.settings = store, clock, runner, settings
        self.claims: RunClaims = claims or InProcessRunClaims()
        self.notify = notify
        self.owner = uuid.uuid4().hex[:12]
        self._inflight: set[asyncio.Task[None]] = set()

    # -- changes users make ---------------------------------------------------------------------
    async def create(
        self,
        message: ChatMessage,
        *,
        when: When,
        when_text: str,
        what: str,
        is_admin: bool,
        target: tuple[str, str] | None = None,
    ) -> Schedule:
        """Check the abuse limits and permissions, then store a new schedule."""
        now = self.clock.now()
        what = what.strip()
        if not what:
            raise ScheduleError(
                "Say what to run, e.g. /schedule every monday at 9am check the weather"
            )
        gap = shortest_gap(when, now)
        if gap is not None and gap < self.settings.min_interval_seconds:
            raise ScheduleLimitError(
                f"{describe(when)} is too often: schedules may run at most every "
                f"{_duration(self.settings.min_interval_seconds)}."
            )
        upcoming = next_runs(when, now, 1)
        if not upcoming:
            raise ScheduleError(f"{describe(when)} has no future run.")
        platform, chat_id = target or (message.platform, message.chat_id)
        if (platform, chat_id) != (message.platform, message.chat_id) and not is_admin:
            raise ScheduleForbidden("Only an admin can schedule runs that post into another chat.")
        await self._make_room(message.chat_key)
        for _ in range(8):
            schedule = Schedule(
                id=new_schedule_id(),
                platform=message.platform,
                chat_id=message.chat_id,
                creator_id=message.user_id,
                creator_name=message.user_name or message.user_id,
                when_text=when_text.strip(),
                when=when,
                what=what,
                timezone=when.tz,
                target_platform=platform,
                target_chat_id=chat_id,
                # Made in a topic or thread, posting into its own chat: it posts in that topic.
                thread_id=(message.thread_id or "")
                if platform == message.platform and chat_id == message.chat_id
                else "",
                created_at=now,
                next_run_at=upcoming[0],
            )
            try:
                await self.store.add(schedule, self.settings.max_per_chat)
            except ScheduleIdTaken:
                continue
            log.info(
                "schedule_created id=%s chat=%s kind=%s next=%s",
                schedule.id,
                schedule.chat_key,
                type(when).__name__,
                schedule.next_run_at.isoformat() if schedule.next_run_at else "",
            )
            return schedule
        raise ScheduleError("Could not find a free schedule id; please try again.")

    async def _make_room(self, chat_key: str) -> None:
        """A full chat drops its oldest finished one-shot (kept only for its history)."""
        schedules = await self.store.list_chat(chat_key)
        if len(schedules) < self.settings.max_per_chat:
            return
        finished = [s for s in schedules if finished_one_shot(s)]
        if finished:
            await self.store.delete(finished[0].id)
            log.info("schedule_finished_dropped id=%s chat=%s", finished[0].id, chat_key)

    async def list_chat(self, chat_key: str) -> list[Schedule]:
        return await self.store.list_chat(chat_key)

    async def remove(
        self, chat_key: str, schedule_id: str, user_id: str, is_admin: bool
    ) -> Schedule:
        schedule = await self._owned(chat_key, schedule_id, user_id, is_admin)
        await self.store.delete(schedule.id)
        log.info("schedule_removed id=%s chat=%s", schedule.id, chat_key)
        return schedule

    async def pause(
        self, chat_key: str, schedule_id: str, user_id: str, is_admin: bool
    ) -> Schedule:
        schedule = await self._owned(chat_key, schedule_id, user_id, is_admin)
        updated = await self.store.patch(schedule.id, paused=True)
        if updated is None:
            raise _not_found(schedule_id)
        log.info("schedule_paused id=%s chat=%s", schedule.id, chat_key)
        return updated

    async def resume(
        self, chat_key: str, schedule_id: str, user_id: str, is_admin: bool
    ) -> Schedule:
        schedule = await self._owned(chat_key, schedule_id, user_id, is_admin)
        upcoming = next_runs(schedule.when, self.clock.now(), 1)
        if not upcoming:
            raise ScheduleError(
                f"Schedule {schedule.id} was for a time that has passed; remove it with "
                f"/unschedule {schedule.id}."
            )
        updated = await self.store.patch(
            schedule.id, paused=False, consecutive_failures=0, next_run_at=upcoming[0]
        )
        if updated is None:
            raise _not_found(schedule_id)
        log.info("schedule_resumed id=%s chat=%s", schedule.id, chat_key)
        return updated

    async def _owned(
        self, chat_key: str, schedule_id: str, user_id: str, is_admin: bool
    ) -> Schedule:
        schedule = await self.store.get(schedule_id.strip().lower())
        if schedule is None or schedule.chat_key != chat_key:
            raise _not_found(schedule_id)
        if schedule.creator_id != user_id and not is_admin:
            raise ScheduleForbidden(
                f"Only {schedule.creator_name} (who created {schedule.id}) or an admin can "
                "change it."
            )
        return schedule

    # -- firing ---------------------------------------------------------------------------------
    async def tick(self) -> int:
        """Fire every due run and wait for those runs to finish; returns how many started."""
        tasks = await self._start_due()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    async def run_forever(self) -> None:
        """Tick every `tick_seconds`; runs continue in the background between ticks."""
        log.info("scheduler_started tick_seconds=%s", self.settings.tick_seconds)
        try:
            while True:
                try:
                    for task in await self._start_due():
                        self._inflight.add(task)
                        task.add_done_callback(self._inflight.discard)
                except Exception as exc:  # noqa: BLE001 - a store outage must not end the loop
                    log.warning("scheduler_tick_failed error=%s", type(exc).__name__)
                await self.clock.sleep(self.settings.tick_seconds)
        finally:
            log.info("scheduler_stopped inflight=%d", len(self._inflight))

    async def drain(self) -> None:
        """Wait for runs started by `run_forever` to finish."""
        if self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def _start_due(self) -> list[asyncio.Task[None]]:
        now = self.clock.now()
        tasks = await self._take_over()
        for schedule in await self.store.due(now):
            task = await self._take(schedule, now)
            if task is not None:
                tasks.append(task)
        return tasks

    async def _take_over(self) -> list[asyncio.Task[None]]:
        """Slots whose runner died (lease expired before it finished): run them here."""
        tasks = []
        for schedule_id, slot in await self.claims.orphans():
            schedule = await self.store.get(schedule_id)
            if schedule is None:
                await self.claims.finish(schedule_id, slot)  # removed meanwhile
                continue
            if not await self.claims.claim(schedule_id, slot, self.owner):
                continue
            log.info("schedule_taken_over id=%s scheduled=%s", schedule_id, slot.isoformat())
            tasks.append(
                asyncio.create_task(self._fire(schedule, slot), name=f"schedule-{schedule_id}")
            )
        return tasks

    async def _take(self, schedule: Schedule, now: datetime) -> asyncio.Task[None] | None:
        """Decide the one slot to run (if any), claim it, and move next_run_at past now."""
        assert schedule.next_run_at is not None
        slot = self._slot_to_run(schedule, now)
        following = next_runs(schedule.when, now, 1)
        after = following[0] if following else None
        if slot is None:
            late = (now - schedule.next_run_at).total_seconds()
            log.warning(
                "schedule_missed id=%s scheduled=%s late_seconds=%d action=skip next=%s",
                schedule.id,
                schedule.next_run_at.isoformat(),
                late,
                after.isoformat() if after else "",
            )
            await self.store.advance(schedule.id, after)
            if not schedule.when.recurring:
                await self.store.delete(schedule.id)
                await self._notify(
                    schedule, f"Schedule {schedule.id} was missed while I was offline; skipped."
                )
            return None
        if not await self.claims.claim(schedule.id, slot, self.owner):
            await self.store.advance(schedule.id, after)  # someone else has it; help move on
            return None
        await self.store.advance(schedule.id, after)
        log.info("schedule_fire id=%s scheduled=%s", schedule.id, slot.isoformat())
        return asyncio.create_task(self._fire(schedule, slot), name=f"schedule-{schedule.id}")

    def _slot_to_run(self, schedule: Schedule, now: datetime) -> datetime | None:
        """The latest scheduled time in [max(next_run_at, now - grace), now], if any."""
        due = schedule.next_run_at
        assert due is not None
        earliest = now - timedelta(seconds=self.settings.grace_seconds)
        slot = due if due >= earliest else None
        cursor = max(due, earliest - timedelta(microseconds=1))
        size = 4  # usually one or two slots fit in the window; grow only when more do
        while True:
            batch = next_runs(schedule.when, cursor, size)
            in_window = [t for t in batch if t <= now]
            if in_window:
                slot = in_window[-1]
            if len(in_window) < len(batch) or not batch:
                return slot
            cursor, size = batch[-1], min(size * 2, 256)

    async def first_post(self, schedule: Schedule) -> bool:
        """True once per slot (`schedule.last_run_at`): the runner that gets it posts."""
        assert schedule.last_run_at is not None
        return await self.claims.first_post(schedule.id, schedule.last_run_at)

    async def _keep_lease(self, schedule_id: str, slot: datetime) -> None:
        every = max(self.claims.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(every)
            try:
                await self.claims.renew(schedule_id, slot, self.owner)
            except Exception as exc:  # noqa: BLE001 - retried next period
                log.warning(
                    "schedule_lease_renew_failed id=%s error=%s", schedule_id, type(exc).__name__
                )
            stop_if_cancelled()

    async def _fire(self, schedule: Schedule, slot: datetime) -> None:
        """Run one slot under a renewed lease; a cancelled run (this process stopping) keeps
        the slot open, so another process takes it over when the lease expires."""
        lease = asyncio.create_task(self._keep_lease(schedule.id, slot))
        history = RunHistory(self.store, self.clock, schedule.id, slot)
        try:
            with history.tracking():
                await self.runner(replace(schedule, last_run_at=slot))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of a run is reported, not raised
            await self.claims.finish(schedule.id, slot)
            metrics.schedule_ran("failed")
            paused = await self._failed(schedule, slot, exc)
            await history.record(error=_reason(exc), paused_after=paused)
            return
        finally:
            lease.cancel()
        await self.claims.finish(schedule.id, slot)
        log.info("schedule_ran id=%s scheduled=%s ok=1", schedule.id, slot.isoformat())
        metrics.schedule_ran("ok")
        await history.record()
        # A one-shot that ran stays, finished (no next run), so /runs shows what it did.
        await self.store.patch(schedule.id, consecutive_failures=0, last_run_at=slot)

    async def _failed(self, schedule: Schedule, slot: datetime, exc: Exception) -> bool:
        """Count the failure, notify, pause after `max_failures`; True when it paused."""
        reason = _reason(exc)
        log.warning(
            "schedule_ran id=%s scheduled=%s ok=0 error=%s",
            schedule.id,
            slot.isoformat(),
            type(exc).__name__,
        )
        if not schedule.when.recurring:
            await self.store.patch(schedule.id, last_run_at=slot)  # kept, with its history
            await self._notify(schedule, f"Scheduled run {schedule.id} failed: {reason}")
            return False
        current = await self.store.get(schedule.id)
        if current is None:
            return False
        failures = current.consecutive_failures + 1
        pause = failures >= self.settings.max_failures
        await self.store.patch(
            schedule.id,
            consecutive_failures=failures,
            last_run_at=slot,
            paused=pause or current.paused,
        )
        note = f"Scheduled run {schedule.id} failed: {reason}"
        if pause:
            note += (
                f"\nIt failed {failures} times in a row, so I paused it. "
                f"Fix the cause, then /resume {schedule.id}."
            )
            log.warning("schedule_auto_paused id=%s failures=%d", schedule.id, failures)
        await self._notify(schedule, note)
        return pause

    async def _notify(self, schedule: Schedule, text: str) -> None:
        if self.notify is None:
            return
        try:
            await self.notify(schedule, text)
        except Exception as exc:  # noqa: BLE001 - a failed note must not break the scheduler
            log.warning("schedule_notify_failed id=%s error=%s", schedule.id, type(exc).__name__)

    async def close(self) -> None:
        for task in list(self._inflight):
            task.cancel()
        await self.drain()
        await self.store.close()
        await self.claims.close()


def finished_one_shot(schedule: Schedule) -> bool:
    return not schedule.when.recurring and schedule.next_run_at is None


def _reason(exc: Exception) -> str:
    return str(exc)[:200] if isinstance(exc, OrchestratorError) else type(exc).__name__


def _not_found(schedule_id: str) -> ScheduleNotFound:
    return ScheduleNotFound(f"No schedule {schedule_id.strip()!r} in this chat. See /schedules.")


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"
