"""Schedules in words: "every Monday at 09:00", for replies and listings."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from orchestrator.scheduling.when import DAY_NAMES, CronWhen, IntervalWhen, When

CRON_DAY_ALIASES = {d[:3].lower(): i for i, d in enumerate(DAY_NAMES)}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _cron_days(field: str) -> list[int] | None:
    """A day-of-week field as sorted day numbers (0=Sunday), or None when not simple."""
    days: set[int] = set()
    for part in field.lower().split(","):
        bounds = part.split("-")
        if len(bounds) > 2:
            return None
        nums = []
        for b in bounds:
            if b.isdigit():
                nums.append(int(b) % 7)
            elif b in CRON_DAY_ALIASES:
                nums.append(CRON_DAY_ALIASES[b])
            else:
                return None
        if len(nums) == 1:
            days.add(nums[0])
        else:
            lo, hi = nums
            hi = hi if hi >= lo else hi + 7
            days.update(d % 7 for d in range(lo, hi + 1))
    return sorted(days, key=lambda d: (d - 1) % 7)  # Monday first


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _describe_cron(expr: str) -> str:
    fields = expr.split()
    fallback = f"on the cron schedule `{expr}`"
    if len(fields) != 5:
        return fallback
    minute, hour, dom, month, dow = fields
    if month != "*":
        return fallback
    if minute.isdigit() and hour == "*" and dom == "*" and dow == "*":
        return f"every hour at minute {int(minute)}"
    if minute.startswith("*/") and minute[2:].isdigit() and hour == dom == dow == "*":
        return f"every {int(minute[2:])} minutes"
    if not (minute.isdigit() and hour.isdigit()):
        return fallback
    at = f"at {int(hour):02d}:{int(minute):02d}"
    if dom == "*" and dow == "*":
        return f"every day {at}"
    if dow == "*" and dom.isdigit():
        return f"on the {_ordinal(int(dom))} of every month {at}"
    if dow == "*" and dom == "L":
        return f"on the last day of every month {at}"
    if dom == "*":
        days = _cron_days(dow)
        if days is None:
            return fallback
        if days == [1, 2, 3, 4, 5]:
            return f"every weekday {at}"
        if days == [6, 0]:
            return f"every weekend day {at}"
        if len(days) == 7:
            return f"every day {at}"
        return f"every {_join([DAY_NAMES[d] for d in days])} {at}"
    return fallback


def _describe_seconds(seconds: int) -> str:
    for unit, size in (("week", 604800), ("day", 86400)):
        if seconds % size == 0:
            n = seconds // size
            return f"every {unit}" if n == 1 else f"every {n} {unit}s"
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "every hour" if hours == 1 else f"every {hours} hours"
    minutes = seconds // 60
    return "every minute" if minutes == 1 else f"every {minutes} minutes"


def describe(when: When) -> str:
    """The schedule in words, e.g. "every Monday at 09:00"."""
    if isinstance(when, CronWhen):
        return _describe_cron(when.expr)
    if isinstance(when, IntervalWhen):
        return _describe_seconds(when.seconds)
    local = when.at.astimezone(ZoneInfo(when.tz))
    return f"once, on {local:%a %d %b %Y} at {local:%H:%M}"
