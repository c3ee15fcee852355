"""When-phrases: a small regex grammar over cron (croniter) and zoneinfo wall-clock time.

A recurring schedule is a cron expression evaluated in the chat's *local wall time* (so "every
Monday at 9" stays at 09:00 across DST changes) or a fixed interval in absolute time ("every 2
hours"). A one-shot is an aware datetime. DST rules: a wall time that does not exist on a
spring-forward day fires once at the first valid time after the gap; an ambiguous fall-back time
fires once, at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter

from orchestrator.scheduling.errors import WhenParseError

__all__ = [
    "CronWhen",
    "IntervalWhen",
    "OnceWhen",
    "When",
    "WhenParseError",
    "describe",
    "next_runs",
    "parse_when",
    "resolve_local",
    "shortest_gap",
    "split_when_what",
    "when_from_dict",
    "when_to_dict",
]

EXAMPLES = (
    '"every monday at 9am", "every weekday at 17:30", "daily at 8", "every 2 hours", '
    '"on the 1st of every month at 10", "tomorrow at 9", "in 20 minutes", '
    '"2026-12-01 14:00", or a cron expression such as "0 9 * * MON"'
)
DEFAULT_TIME = time(9, 0)
MAX_WHEN_WORDS = 12


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


# -- description ------------------------------------------------------------------------------
DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
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


# -- the phrase grammar -----------------------------------------------------------------------
_DAY_WORDS = {
    "monday": 1, "mon": 1,
    "tuesday": 2, "tues": 2, "tue": 2,
    "wednesday": 3, "weds": 3, "wed": 3,
    "thursday": 4, "thurs": 4, "thur": 4, "thu": 4,
    "friday": 5, "fri": 5,
    "saturday": 6, "sat": 6,
    "sunday": 0, "sun": 0,
}  # fmt: skip
_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty-five": 45, "ninety": 90,
}  # fmt: skip
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}

_alt = "|".join
DAY = rf"(?:{_alt(sorted(_DAY_WORDS, key=len, reverse=True))})"
DAYS_PLURAL = rf"(?:{_alt(d.lower() + 's' for d in DAY_NAMES)})"
DAYLIST = rf"{DAY}s?(?:(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*|\s+){DAY}s?)*"
MONTH = rf"(?:{_alt(sorted(_MONTHS, key=len, reverse=True))})"
NUMBER = rf"(?:\d+|{_alt(sorted(_NUMBER_WORDS, key=len, reverse=True))})"
TIME = r"(?:noon|midday|midnight|\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?(?:\s*o'?clock)?)"
# a bare time needs "at", a colon or am/pm, so "5 reports" is never read as 05:00
STRICT_TIME = r"(?:noon|midday|midnight|\d{1,2}[:.]\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?|\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.))"  # noqa: E501
AT = rf"(?:(?:at|@)\s+(?P<time>{TIME})|(?P<time2>{STRICT_TIME}))"
EVERY = r"(?:every|each)"
UNIT = r"(?P<unit>seconds?|secs?|minutes?|mins?|m|hours?|hrs?|h|days?|weeks?)"

_CRON_ATOM = r"(?:[*?]|\d+[lw]?|l|w|lw|[a-z]{3})"
_CRON_FIELD = re.compile(rf"^{_CRON_ATOM}(?:[/,\-#]{_CRON_ATOM})*$", re.IGNORECASE)
_CRON_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}


def _with_time(core: str) -> list[re.Pattern[str]]:
    """`core [at TIME]` and `at TIME core`."""
    return [
        re.compile(rf"{core}(?:\s+{AT})?"),
        re.compile(rf"{AT}\s+{core}"),
    ]


_DAILY = _with_time(rf"(?:{EVERY}\s+day|daily|everyday|{EVERY}\s+morning)")
_WEEKDAYS = _with_time(
    rf"(?:(?:{EVERY}|on)\s+(?:week\s?days?|work\s?days?|business\s+days?)|weekdays|workdays)"
)
_WEEKENDS = _with_time(rf"(?:(?:{EVERY}|on)\s+weekends?(?:\s+days?)?|weekends)")
_DAY_LIST = _with_time(
    rf"(?:(?:{EVERY}\s+(?:week\s+on\s+)?|weekly\s+on\s+)(?P<days>{DAYLIST})"
    rf"|(?:on\s+)?(?P<plural>{DAYS_PLURAL}(?:(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*)"
    rf"{DAYS_PLURAL})*))"
)
_MONTHLY = _with_time(
    r"(?:(?:on\s+)?the\s+(?:(?P<dom>\d{1,2})(?:st|nd|rd|th)?|(?P<last>last))(?:\s+day)?"
    r"\s+of\s+(?:every|each|the)\s+month"
    r"|(?:on\s+)?day\s+(?P<dom2>\d{1,2})\s+of\s+(?:every|each)\s+month"
    rf"|(?:{EVERY}\s+month|monthly)(?:\s+on\s+the\s+(?:(?P<dom3>\d{{1,2}})(?:st|nd|rd|th)?"
    r"|(?P<last2>last)(?:\s+day)?))?)"
)
_INTERVAL = re.compile(
    rf"(?:{EVERY}\s+(?:(?P<n>{NUMBER})\s*)?{UNIT}|(?P<hourly>hourly)|{EVERY}\s+half\s+(?:an\s+)?hour)"
)
_IN = re.compile(
    rf"(?:in|after)\s+(?:(?P<half>half\s+an\s+hour)|(?P<n>{NUMBER})\s*{UNIT}"
    rf"(?:\s+(?:and\s+)?(?P<n2>\d+)\s*(?P<unit2>minutes?|mins?|m))?)"
)
_RELATIVE_DAY = _with_time(r"(?P<rel>today|tomorrow|tonight|the\s+day\s+after\s+tomorrow)")
_NEXT_DAY = _with_time(rf"(?:(?:on|next|this|coming)\s+)?(?P<day>{DAY})")
_AT_ONLY = re.compile(rf"(?:(?:at|@)\s+(?P<time>{TIME})|(?P<time2>{STRICT_TIME}))(?:\s+today)?")
_ISO = re.compile(
    r"(?:on\s+)?(?P<iso>\d{4}-\d{2}-\d{2}(?:[t ]\d{1,2}:\d{2}(?::\d{2})?(?:z|[+-]\d{2}:?\d{2})?)?)"
    rf"(?:\s+{AT})?"
)
_MONTH_DATE = _with_time(
    rf"(?:on\s+)?(?:the\s+)?(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{MONTH})"
    rf"|(?P<m2>{MONTH})\s+(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?)(?:,?\s+(?P<year>\d{{4}}))?"
)


def _normalise(text: str) -> str:
    text = text.strip().lower().replace("’", "'")
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .,;:!-")


def _match(patterns: list[re.Pattern[str]], text: str) -> re.Match[str] | None:
    for pattern in patterns:
        m = pattern.fullmatch(text)
        if m:
            return m
    return None


def _parse_time(chunk: str | None, default: time = DEFAULT_TIME) -> time:
    if not chunk:
        return default
    chunk = chunk.replace(".", "").replace("o'clock", "").replace("oclock", "").strip()
    if chunk in ("noon", "midday"):
        return time(12, 0)
    if chunk == "midnight":
        return time(0, 0)
    m = re.fullmatch(r"(\d{1,2})(?::?(\d{2}))?\s*(am|pm)?", chunk)
    if not m:
        raise WhenParseError(f"I could not read the time {chunk!r}. Try 9am, 17:30 or noon.")
    hour, minute, meridian = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if meridian:
        if not 1 <= hour <= 12:
            raise WhenParseError(f"{chunk!r} is not a time: with am/pm the hour is 1 to 12.")
        hour = hour % 12 + (12 if meridian == "pm" else 0)
    if hour > 23 or minute > 59:
        raise WhenParseError(f"{chunk!r} is not a time of day (hours 0-23, minutes 0-59).")
    return time(hour, minute)


def _time_of(m: re.Match[str], default: time = DEFAULT_TIME) -> time:
    groups = m.groupdict()
    return _parse_time(groups.get("time") or groups.get("time2"), default)


def _number(word: str | None) -> int:
    if word is None:
        return 1
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _unit_seconds(unit: str) -> int:
    unit = unit.rstrip("s")
    if unit in ("m", "min", "minute"):
        return 60
    if unit in ("h", "hr", "hour"):
        return 3600
    if unit in ("sec", "second"):
        return 1
    return _UNIT_SECONDS[unit]


def _cron(minute_hour: time, dom: str = "*", dow: str = "*") -> str:
    return f"{minute_hour.minute} {minute_hour.hour} {dom} * {dow}"


def _day_numbers(text: str) -> str:
    words = re.findall(DAY + "s?", text)
    nums: list[int] = []
    for w in words:
        key = w if w in _DAY_WORDS else w[:-1]
        if _DAY_WORDS[key] not in nums:
            nums.append(_DAY_WORDS[key])
    return ",".join(str(n) for n in sorted(nums, key=lambda d: (d - 1) % 7))


def _parse_cron(text: str, tz: ZoneInfo, now: datetime) -> CronWhen | None:
    text = _CRON_ALIASES.get(text, text)
    fields = text.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        return None
    if not _looks_cron(fields):
        return None
    expr = " ".join(f.upper() if f.isalpha() else f for f in fields)
    try:
        croniter(expr)
    except (ValueError, KeyError) as exc:
        detail = str(exc).split("]")[-1].strip(" ,") or "invalid"
        raise WhenParseError(
            f"{text!r} looks like a cron expression (minute hour day-of-month month day-of-week) "
            f'but croniter says: {detail}. Example: "0 9 * * MON" is every Monday at 09:00.'
        ) from None
    when = CronWhen(expr, tz.key)
    if not next_runs(when, now, 1):
        raise WhenParseError(f"the cron expression {text!r} never runs.")
    return when


def _future(at: datetime, now: datetime, text: str) -> OnceWhen:
    if at <= now:
        raise WhenParseError(
            f"I read {text!r} as {at:%a %d %b %Y %H:%M}, which is in the past. "
            f'Give a future time, e.g. "tomorrow at 9" or "in 20 minutes".'
        )
    return OnceWhen(at.astimezone(UTC).replace(microsecond=0), at.tzinfo.key)  # type: ignore[union-attr]


def _local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    return resolve_local(datetime.combine(day, at), tz)


def _parse_recurring(text: str, tz: ZoneInfo, now: datetime) -> When | None:
    if m := _match(_DAILY, text):
        return CronWhen(_cron(_time_of(m)), tz.key)
    if m := _match(_WEEKDAYS, text):
        return CronWhen(_cron(_time_of(m), dow="1-5"), tz.key)
    if m := _match(_WEEKENDS, text):
        return CronWhen(_cron(_time_of(m), dow="6,0"), tz.key)
    if m := _match(_DAY_LIST, text):
        return CronWhen(_cron(_time_of(m), dow=_day_numbers(m["days"] or m["plural"])), tz.key)
    if m := _match(_MONTHLY, text):
        if m["last"] or m["last2"]:
            return CronWhen(_cron(_time_of(m), dom="L"), tz.key)
        dom = int(m["dom"] or m["dom2"] or m["dom3"] or 1)
        if not 1 <= dom <= 31:
            raise WhenParseError(f"there is no day {dom} in a month; use 1 to 31 or 'last'.")
        return CronWhen(_cron(_time_of(m), dom=str(dom)), tz.key)
    if m := _INTERVAL.fullmatch(text):
        if m["hourly"]:
            seconds = 3600
        elif m["unit"] is None:
            seconds = 1800
        else:
            seconds = _number(m["n"]) * _unit_seconds(m["unit"])
            if m["unit"].startswith(("day", "week")) and seconds in (86400, 604800):
                return None  # "every day"/"every week" are handled with their times above
        if seconds < 60:
            raise WhenParseError("the shortest repeat is one minute.")
        return IntervalWhen(seconds, now.astimezone(UTC).replace(second=0, microsecond=0), tz.key)
    return None


def _parse_once(text: str, tz: ZoneInfo, now: datetime) -> When | None:
    local_now = now.astimezone(tz)
    if m := _IN.fullmatch(text):
        seconds = 1800 if m["half"] else _number(m["n"]) * _unit_seconds(m["unit"])
        if m["n2"]:
            seconds += int(m["n2"]) * 60
        return _future(now.astimezone(tz) + timedelta(seconds=seconds), now, text)
    if m := _match(_RELATIVE_DAY, text):
        rel = m["rel"]
        offset = {"today": 0, "tonight": 0, "tomorrow": 1}.get(rel, 2)
        if rel in ("today",) and not (m["time"] or m["time2"]):
            return None
        default = time(20, 0) if rel == "tonight" else DEFAULT_TIME
        day = local_now.date() + timedelta(days=offset)
        return _future(_local_at(day, _time_of(m, default), tz), now, text)
    if m := _AT_ONLY.fullmatch(text):
        at = _time_of(m)
        candidate = _local_at(local_now.date(), at, tz)
        if candidate <= now:
            candidate = _local_at(local_now.date() + timedelta(days=1), at, tz)
        return _future(candidate, now, text)
    if m := _match(_NEXT_DAY, text):
        target = _DAY_WORDS[m["day"]]
        at = _time_of(m)
        for ahead in range(8):
            day = local_now.date() + timedelta(days=ahead)
            if (day.isoweekday() % 7) == target:
                candidate = _local_at(day, at, tz)
                if candidate > now:
                    return _future(candidate, now, text)
        return None
    if m := _ISO.fullmatch(text):
        try:
            parsed = datetime.fromisoformat(m["iso"].upper().replace("Z", "+00:00"))
        except ValueError:
            raise WhenParseError(f"{m['iso']!r} is not a real date.") from None
        if parsed.tzinfo is not None:
            return _future(parsed.astimezone(tz), now, text)
        if len(m["iso"]) == 10:
            return _future(_local_at(parsed.date(), _time_of(m), tz), now, text)
        return _future(resolve_local(parsed, tz), now, text)
    if m := _match(_MONTH_DATE, text):
        day_num = int(m["d1"] or m["d2"])
        month = _MONTHS[m["m1"] or m["m2"]]
        years = [int(m["year"])] if m["year"] else [local_now.year, local_now.year + 1]
        for year in years:
            try:
                candidate = _local_at(date(year, month, day_num), _time_of(m), tz)
            except ValueError:
                raise WhenParseError(f"there is no day {day_num} in that month.") from None
            if candidate > now or len(years) == 1:
                return _future(candidate, now, text)
    return None


def parse_when(text: str, tz: ZoneInfo, now: datetime) -> When:
    """Parse a when-phrase relative to `now`, in the chat's timezone `tz`."""
    normal = _normalise(text)
    if not normal:
        raise WhenParseError(f"Say when. Examples: {EXAMPLES}.")
    for parser in (_parse_cron, _parse_recurring, _parse_once):
        when = parser(normal, tz, now)
        if when is not None:
            return when
    raise WhenParseError(_not_understood(normal))


# -- helpful failure --------------------------------------------------------------------------
_SKIP_WORDS = {"at", "on", "the", "of", "and", "in", "@", "next", "this", "a", "an"}


def _word_meaning(token: str) -> str | None:
    """What one word contributes to a when-phrase, or None when it is not a when-word."""
    bare = token.strip(",;:")
    if bare in ("every", "each", "daily", "weekly", "monthly", "hourly", "weekdays"):
        return "it repeats"
    day = _DAY_WORDS.get(bare, _DAY_WORDS.get(bare.removesuffix("s")))
    if day is not None:
        return f"on {DAY_NAMES[day]}"
    if re.fullmatch(STRICT_TIME, bare):
        return f"at {_parse_time_safe(bare)}"
    if bare in ("today", "tomorrow", "tonight", "noon", "midnight"):
        return bare
    if bare in _MONTHS:
        return f"in {bare.title()}"
    if re.fullmatch(UNIT, bare) or bare in _NUMBER_WORDS or bare.isdigit():
        return bare
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", bare) or re.fullmatch(r"\d+(?:st|nd|rd|th)", bare):
        return bare
    return None


def _not_understood(text: str) -> str:
    """Say which leading words made sense, where it stopped, and give examples."""
    understood: list[str] = []
    stopped = ""
    for token in text.split():
        meaning = _word_meaning(token)
        if meaning is not None:
            understood.append(meaning)
        elif token.strip(",;:") not in _SKIP_WORDS:
            stopped = token
            break
    parts = [f'I could not understand "{_short(text)}" as a time.']
    if understood:
        parts.append(f"I understood: {', '.join(dict.fromkeys(understood))}.")
    if stopped:
        parts.append(f"I got stuck at {stopped!r}.")
    parts.append(f"Try {EXAMPLES}.")
    return " ".join(parts)


def _parse_time_safe(token: str) -> str:
    try:
        return _parse_time(token).strftime("%H:%M")
    except WhenParseError:
        return token


# -- /schedule <when> <what> ------------------------------------------------------------------
def split_when_what(text: str, tz: ZoneInfo, now: datetime) -> tuple[When, str]:
    """Split "every monday at 9am check the weather" into (when, "check the weather").

    The longest leading run of words (at most MAX_WHEN_WORDS) that parses as a when-phrase
    wins; for cron it is the first five fields. A comma or colon after the phrase is allowed.
    """
    words = text.split()
    if len(words) >= 5 and _looks_cron(words[:5]):
        cron = _parse_cron(" ".join(words[:5]).lower(), tz, now)
        if cron is not None:
            return cron, _what(words[5:])
    refusal: WhenParseError | None = None
    for cut in range(min(len(words), MAX_WHEN_WORDS), 0, -1):
        try:
            when = parse_when(" ".join(words[:cut]), tz, now)
        except WhenParseError as exc:
            if not str(exc).startswith("I could not understand"):
                refusal = refusal or exc  # understood, but refused (past, out of range)
            continue
        what = _what(words[cut:])
        if not what:
            raise WhenParseError(
                "I understood when, but not what to do. Usage: /schedule <when> <what>, "
                'e.g. "/schedule every monday at 9am check the weather".'
            )
        return when, what
    if refusal is not None:
        raise refusal
    head = " ".join(words[:MAX_WHEN_WORDS])
    raise WhenParseError(
        _not_understood(head).replace("as a time.", "as when to run it.", 1)
        + " Usage: /schedule <when> <what>."
    )


def _what(words: list[str]) -> str:
    return " ".join(words).strip().lstrip(",;:-– ").strip()


def _looks_cron(fields: list[str]) -> bool:
    """Five cron-shaped fields whose minute and hour hold a digit or '*'."""
    return (
        len(fields) == 5
        and all(_CRON_FIELD.match(f) for f in fields)
        and all(any(c.isdigit() or c == "*" for c in f) for f in fields[:2])
    )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
