"""Run history: each run's time, duration, outcome, tools used and error, kept in the store.

The tools come from the audit trail's tool tracking (every MCP call made while the run's task
handles the synthetic message), so the runner needs no extra return value.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from orchestrator.audit import tracking_tools
from orchestrator.clock import Clock
from orchestrator.scheduling.store import ScheduleRun, ScheduleStore

log = logging.getLogger(__name__)


class RunHistory:
    """Times one run and writes its entry; a failed write is logged, never raised."""

    def __init__(self, store: ScheduleStore, clock: Clock, schedule_id: str, slot: datetime):
        self.store, self.schedule_id, self.slot = store, schedule_id, slot
        self.started_at = clock.now()
        self._started = time.monotonic()
        self.tools: list[str] = []

    @contextmanager
    def tracking(self) -> Iterator[None]:
        with tracking_tools() as used:
            self.tools = used
            yield

    async def record(self, *, error: str = "", paused_after: bool = False) -> None:
        run = ScheduleRun(
            scheduled_for=self.slot,
            started_at=self.started_at,
            duration_ms=round((time.monotonic() - self._started) * 1000, 1),
            outcome="failed" if error else "ok",
            tools=tuple(dict.fromkeys(self.tools)),
            error=error,
            paused_after=paused_after,
        )
        try:
            await self.store.add_run(self.schedule_id, run)
        except Exception as exc:  # noqa: BLE001 - history is an aid; the run already happened
            log.warning(
                "schedule_history_failed id=%s error=%s", self.schedule_id, type(exc).__name__
            )
