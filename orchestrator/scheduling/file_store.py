"""Schedules in one JSON file: the embedded default, for a single process."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator.scheduling.errors import ScheduleIdTaken, ScheduleLimitError
from orchestrator.scheduling.store import (
    RUNS_KEPT,
    Schedule,
    ScheduleRun,
    check_patch,
    expand_target,
    full_message,
    is_later,
)

log = logging.getLogger(__name__)


class FileScheduleStore:
    """All schedules in one JSON file, rewritten atomically (temp file + os.replace).

    For one process: the embedded default. Several processes need the Redis store.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = asyncio.Lock()
        self._schedules: dict[str, Schedule] | None = None
        self._runs: dict[str, list[dict[str, Any]]] = {}

    def _load(self) -> dict[str, Schedule]:
        if self._schedules is None:
            self._schedules = {}
            if self.path.exists():
                raw = json.loads(self.path.read_text(encoding="utf-8") or "{}")
                for item in raw.get("schedules", []):
                    schedule = Schedule.from_dict(item)
                    self._schedules[schedule.id] = schedule
                self._runs = {k: list(v) for k, v in raw.get("runs", {}).items()}
                log.info("schedules_loaded path=%s count=%d", self.path, len(self._schedules))
        return self._schedules

    async def _save(self) -> None:
        schedules = self._load()
        runs = {k: v for k, v in self._runs.items() if k in schedules}
        data = {"version": 1, "schedules": [s.to_dict() for s in schedules.values()], "runs": runs}
        await asyncio.to_thread(_atomic_write, self.path, json.dumps(data, indent=1))

    async def add(self, schedule: Schedule, max_per_chat: int) -> None:
        async with self._lock:
            schedules = self._load()
            if schedule.id in schedules:
                raise ScheduleIdTaken(schedule.id)
            if sum(s.chat_key == schedule.chat_key for s in schedules.values()) >= max_per_chat:
                raise ScheduleLimitError(full_message(max_per_chat))
            schedules[schedule.id] = schedule
            await self._save()

    async def get(self, schedule_id: str) -> Schedule | None:
        async with self._lock:
            return self._load().get(schedule_id)

    async def delete(self, schedule_id: str) -> bool:
        async with self._lock:
            if self._load().pop(schedule_id, None) is None:
                return False
            await self._save()
            return True

    async def list_chat(self, chat_key: str) -> list[Schedule]:
        async with self._lock:
            found = [s for s in self._load().values() if s.chat_key == chat_key]
        return sorted(found, key=lambda s: s.created_at)

    async def due(self, now: datetime) -> list[Schedule]:
        async with self._lock:
            return [
                s
                for s in self._load().values()
                if not s.paused and s.next_run_at is not None and s.next_run_at <= now
            ]

    async def patch(self, schedule_id: str, **changes: Any) -> Schedule | None:
        check_patch(changes)
        async with self._lock:
            schedules = self._load()
            current = schedules.get(schedule_id)
            if current is None:
                return None
            updated = replace(current, **expand_target(changes))
            schedules[schedule_id] = updated
            await self._save()
            return updated

    async def advance(self, schedule_id: str, next_run_at: datetime | None) -> bool:
        async with self._lock:
            schedules = self._load()
            current = schedules.get(schedule_id)
            if current is None or not is_later(next_run_at, current.next_run_at):
                return False
            schedules[schedule_id] = replace(current, next_run_at=next_run_at)
            await self._save()
            return True

    async def all(self) -> list[Schedule]:
        async with self._lock:
            return sorted(self._load().values(), key=lambda s: s.created_at)

    async def add_run(self, schedule_id: str, run: ScheduleRun, keep: int = RUNS_KEPT) -> None:
        async with self._lock:
            if schedule_id not in self._load():
                return
            history = [run.to_dict(), *self._runs.get(schedule_id, [])]
            self._runs[schedule_id] = history[:keep]
            await self._save()

    async def runs(self, schedule_id: str, limit: int = RUNS_KEPT) -> list[ScheduleRun]:
        async with self._lock:
            self._load()
            return [ScheduleRun.from_dict(d) for d in self._runs.get(schedule_id, [])[:limit]]

    async def close(self) -> None:
        return None


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
