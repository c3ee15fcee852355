"""When a schedule runs: cron in local wall time, fixed intervals, one-shot times.

A recurring schedule is a cron expression evaluated in the chat's *local wall time* (so "every
Monday at 9" stays at 09:00 across DST changes) or a fixed interval in absolute time ("every 2
hours"). A one-shot is an aware datetime. DST rules: a wall time that does not exist on a
spring-forward day fires once at the first valid time after the gap; an ambiguous fall-back time
fires once, at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter

DEFAULT_TIME = time(9, 0)
MAX_WHEN_WORDS = 12
MAX_WHEN_CHARS = 160


@dataclass(frozen=True, slots=True)
class CronWhen:
    """Recurring: a 5-field cron expression evaluated in local wall time of `tz`."""

    expr: str
    tz: str
    recurring: bool = True


@dataclass(frozen=True, slots=True)
class IntervalWhen:
    """Recurring: every `seconds`, counted from `anchor` (UTC) in absolute time."""

    seconds: int
    anchor: datetime
    tz: str
    recurring: bool = True


@dataclass(frozen=True, slots=True)
class OnceWhen:
    """One-shot at an aware instant; `tz` is only for display."""

    at: datetime
    tz: str
    recurring: bool = False


When = CronWhen | IntervalWhen | OnceWhen


# -- serialisation ----------------------------------------------------------------------------
def when_to_dict(when: When) -> dict[str, Any]:
    if isinstance(when, CronWhen):
        return {"kind": "cron", "expr": when.expr, "tz": when.tz}
    if isinstance(when, IntervalWhen):
        return {
            "kind": "interval",
            "seconds": when.seconds,
            "anchor": when.anchor.isoformat(),
            "tz": when.tz,
        }
    return {"kind": "once", "at": when.at.isoformat(), "tz": when.tz}


def when_from_dict(data: dict[str, Any]) -> When:
    kind = data["kind"]
    if kind == "cron":
        return CronWhen(str(data["expr"]), str(data["tz"]))
    if kind == "interval":
        anchor = datetime.fromisoformat(data["anchor"])
        return IntervalWhen(int(data["seconds"]), anchor, str(data["tz"]))
    if kind == "once":
        return OnceWhen(datetime.fromisoformat(data["at"]), str(data["tz"]))
    raise ValueError(f"unknown when kind {kind!r}")


# -- local wall time --------------------------------------------------------------------------
def _exists(naive: datetime, tz: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


def resolve_local(naive: datetime, tz: ZoneInfo) -> datetime:
    """Wall time -> aware time: first occurrence if ambiguous, first valid minute if in a gap."""
    if _exists(naive, tz):
        return naive.replace(tzinfo=tz, fold=0)
    probe = naive.replace(second=0, microsecond=0)
    for _ in range(2 * 24 * 60):  # no real gap is longer than a day
        probe += timedelta(minutes=1)
        if _exists(probe, tz):
            return probe.replace(tzinfo=tz, fold=0)
    raise ValueError(f"no valid local time after {naive.isoformat()} in {tz.key}")


# -- evaluation -------------------------------------------------------------------------------
def next_runs(when: When, after: datetime, count: int) -> list[datetime]:
    """The next `count` run times strictly after `after`, as aware times in the when's zone."""
    tz = ZoneInfo(when.tz)
    if count <= 0:
        return []
    if isinstance(when, OnceWhen):
        return [when.at.astimezone(tz)] if when.at > after else []
    if isinstance(when, IntervalWhen):
        step = timedelta(seconds=when.seconds)
        k = max(1, int((after - when.anchor) // step) + 1)
        first = when.anchor + k * step
        while first <= after:  # guard float/rounding edges
            first += step
        return [(first + i * step).astimezone(tz) for i in range(count)]
    return _cron_runs(when.expr, tz, after, count)


def _cron_runs(expr: str, tz: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    start = after.astimezone(tz).replace(tzinfo=None)
    iterator = croniter(expr, start)
    runs: list[datetime] = []
    last: datetime | None = None
    misses = 0
    while len(runs) < count:
        try:
            candidate = iterator.get_next(datetime)
        except CroniterBadDateError:
            break
        aware = resolve_local(candidate, tz)
        if aware <= after or (last is not None and aware <= last):
            misses += 1  # a gap time that collapsed onto one already counted
            if misses > 10_000:
                break
            continue
        runs.append(aware)
        last = aware
    return runs


def shortest_gap(when: When, after: datetime, sample: int = 60) -> float | None:
    """Smallest time between consecutive runs over the next `sample` runs (None: one-shot)."""
    if isinstance(when, OnceWhen):
        return None
    if isinstance(when, IntervalWhen):
        return float(when.seconds)
    runs = next_runs(when, after, sample)
    gaps = [(b - a).total_seconds() for a, b in zip(runs, runs[1:], strict=False)]
    return min(gaps) if gaps else None


DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
