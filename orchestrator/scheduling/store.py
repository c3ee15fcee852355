"""Schedules and the store they live in (`file_store` for one process, `redis_store` for many).

Writers never overwrite a whole schedule they read earlier: `patch` sets named fields of a
schedule that still exists, and `advance` only moves `next_run_at` forward, so several scheduler
processes and a user pausing at the same moment cannot undo each other.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Protocol

from orchestrator.scheduling.when import When, when_from_dict, when_to_dict

log = logging.getLogger(__name__)

ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: easy to read and type
ID_LENGTH = 5
RUNS_KEPT = 20  # run history entries kept per schedule
PATCHABLE = {
    "paused",
    "consecutive_failures",
    "last_run_at",
    "next_run_at",
    "what",
    "target",
    "approved_tools",
}


def new_schedule_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


@dataclass(frozen=True, slots=True)
class Schedule:
    """One scheduled workflow of one chat."""

    id: str
    platform: str
    chat_id: str
    creator_id: str
    creator_name: str
    when_text: str
    when: When
    what: str
    timezone: str
    target_platform: str = ""
    target_chat_id: str = ""
    paused: bool = False
    consecutive_failures: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_run_at: datetime | None = None
    next_run_at: datetime | None = None
    # Write tools ("server/tool") the creator approved for every run: no button each time.
    approved_tools: tuple[str, ...] = ()
    # f31a: the Telegram topic / Discord thread it was made in, where it posts ("" = the chat).
    thread_id: str = ""

    def __post_init__(self) -> None:
        if not self.target_platform:
            object.__setattr__(self, "target_platform", self.platform)
        if not self.target_chat_id:
            object.__setattr__(self, "target_chat_id", self.chat_id)

    @property
    def chat_key(self) -> str:
        return f"{self.platform}:{self.chat_id}"

    @property
    def target_key(self) -> str:
        return f"{self.target_platform}:{self.target_chat_id}"

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["when"] = when_to_dict(self.when)
        data["approved_tools"] = ",".join(self.approved_tools)
        for name in ("created_at", "last_run_at", "next_run_at"):
            value = data[name]
            data[name] = value.isoformat() if value is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schedule:
        values = dict(data)
        values["when"] = when_from_dict(values["when"])
        for name in ("created_at", "last_run_at", "next_run_at"):
            raw = values.get(name)
            values[name] = datetime.fromisoformat(raw) if raw else None
        if values["created_at"] is None:
            values["created_at"] = datetime.now(UTC)
        values["paused"] = bool(values.get("paused", False))
        values["consecutive_failures"] = int(values.get("consecutive_failures", 0))
        approved = values.get("approved_tools") or ()
        if isinstance(approved, str):
            approved = approved.split(",")
        values["approved_tools"] = tuple(t for t in approved if t)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass(frozen=True, slots=True)
class ScheduleRun:
    """One run of a schedule: when, how long, how it ended, which tools it used."""

    scheduled_for: datetime
    started_at: datetime
    duration_ms: float
    outcome: str  # "ok" | "failed"
    tools: tuple[str, ...] = ()
    error: str = ""
    paused_after: bool = False  # this failure paused the schedule

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["scheduled_for"] = self.scheduled_for.isoformat()
        data["started_at"] = self.started_at.isoformat()
        data["tools"] = list(self.tools)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScheduleRun:
        return cls(
            scheduled_for=datetime.fromisoformat(data["scheduled_for"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            duration_ms=float(data.get("duration_ms", 0)),
            outcome=str(data.get("outcome", "")),
            tools=tuple(data.get("tools", ())),
            error=str(data.get("error", "")),
            paused_after=bool(data.get("paused_after", False)),
        )


class ScheduleStore(Protocol):
    """Where schedules live. Every method is safe to call from several tasks at once."""

    async def add(self, schedule: Schedule, max_per_chat: int) -> None:
        """Store a new schedule; ScheduleLimitError when the chat is full, ScheduleIdTaken."""

    async def get(self, schedule_id: str) -> Schedule | None: ...

    async def delete(self, schedule_id: str) -> bool: ...

    async def list_chat(self, chat_key: str) -> list[Schedule]: ...

    async def due(self, now: datetime) -> list[Schedule]:
        """Unpaused schedules whose next_run_at is at or before `now`."""

    async def patch(self, schedule_id: str, **changes: Any) -> Schedule | None:
        """Set the named fields of an existing schedule; None when it is gone."""

    async def advance(self, schedule_id: str, next_run_at: datetime | None) -> bool:
        """Move next_run_at forward (None = finished); never backwards. True when it moved."""

    async def all(self) -> list[Schedule]:
        """Every schedule of every chat (the doctor's reachability check)."""

    async def add_run(self, schedule_id: str, run: ScheduleRun, keep: int = RUNS_KEPT) -> None:
        """Append to the schedule's run history, keeping the newest `keep` runs."""

    async def runs(self, schedule_id: str, limit: int = RUNS_KEPT) -> list[ScheduleRun]:
        """The schedule's recent runs, newest first."""

    async def close(self) -> None: ...


def check_patch(changes: dict[str, Any]) -> None:
    unknown = set(changes) - PATCHABLE
    if unknown:
        raise ValueError(f"cannot patch {sorted(unknown)}")


def is_later(new: datetime | None, old: datetime | None) -> bool:
    """None means "finished", later than any time."""
    if old is None:
        return False
    return new is None or new > old


def expand_target(changes: dict[str, Any]) -> dict[str, Any]:
    """`target=(platform, chat_id)` in a patch sets both target fields."""
    out = dict(changes)
    target = out.pop("target", None)
    if target is not None:
        out["target_platform"], out["target_chat_id"] = target
    return out


def full_message(limit: int) -> str:
    return (
        f"This chat already has {limit} schedules, the most allowed. "
        "Remove one with /unschedule <id> first (see /schedules)."
    )
