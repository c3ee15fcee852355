"""Findings, the check signature, the report and the exit code."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    level: Level
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class ScheduleTarget:
    """A schedule and the chat it posts to, for the reachability check."""

    schedule_id: str
    platform: str
    chat_id: str


Check = Callable[[], Awaitable[list[Finding]]]
TargetLister = Callable[[], Awaitable[list[ScheduleTarget]]]


def ok(check: str, detail: str) -> Finding:
    return Finding(check, Level.OK, detail)


def warn(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, Level.WARN, detail, fix)


def fail(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, Level.FAIL, detail, fix)


async def run_checks(
    checks: Sequence[tuple[str, Check]], timeout_seconds: float = 20.0
) -> list[Finding]:
    """Run every check at once; a timeout or a crash becomes a `fail` finding of that check."""

    async def one(name: str, check: Check) -> list[Finding]:
        try:
            return await asyncio.wait_for(check(), timeout_seconds)
        except TimeoutError:
            return [fail(name, f"no answer within {timeout_seconds:g}s", "see the logs")]
        except Exception as exc:  # noqa: BLE001 - a broken check is itself a finding
            log.warning("doctor_check_crashed check=%s error=%s", name, type(exc).__name__)
            return [fail(name, f"the check crashed: {type(exc).__name__}", "see the logs")]

    results = await asyncio.gather(*(one(name, check) for name, check in checks))
    return [finding for found in results for finding in found]


def exit_code(findings: Sequence[Finding]) -> int:
    """0 all ok, 1 warnings, 2 any failure."""
    levels = {f.level for f in findings}
    return 2 if Level.FAIL in levels else 1 if Level.WARN in levels else 0


def format_report(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"{f.level.value.upper():<4} {f.check}: {f.detail}")
        if f.level is not Level.OK and f.fix:
            lines.append(f"     fix: {f.fix}")
    counts = {level: sum(f.level is level for f in findings) for level in Level}
    lines.append(
        f"{counts[Level.OK]} ok, {counts[Level.WARN]} warning(s), {counts[Level.FAIL]} failure(s)"
    )
    return "\n".join(lines)
