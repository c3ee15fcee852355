"""The scheduler seam as the core sees it: a loop to run and a resource to close."""

from __future__ import annotations

from typing import Protocol


class SchedulerLoop(Protocol):
    """Fires due schedules until cancelled (see `scheduling.engine.Scheduler`)."""

    async def run_forever(self) -> None: ...

    async def close(self) -> None: ...
