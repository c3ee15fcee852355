"""Reading a when-phrase: everyday words, cron expressions and one-shot times, into a `When`.

A recurring schedule is a cron expression evaluated in the chat's local wall time, or a fixed
interval; a one-shot is an aware datetime (see `scheduling.when`)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from orchestrator.scheduling.errors import WhenParseError
from orchestrator.scheduling.grammar import (
    AT_ONLY,
    CRON_ALIASES,
    CRON_FIELD,
    DAILY,
    DAY,
    DAY_LIST,
    DAY_WORDS,
    IN,
    INTERVAL,
    ISO,
    MONTH_DATE,
    MONTHLY,
    MONTHS,
    NEXT_DAY,
    NUMBER_WORDS,
    RELATIVE_DAY,
    STRICT_TIME,
    UNIT,
    UNIT_SECONDS,
    WEEKDAYS,
    WEEKENDS,
)
from orchestrator.scheduling.when import (
    DAY_NAMES,
    DEFAULT_TIME,
    MAX_WHEN_CHARS,
    MAX_WHEN_WORDS,
    CronWhen,
    IntervalWhen,
    OnceWhen,
    When,
    next_runs,
    resolve_local,
)

EXAMPLES = (
    '"every monday at 9am", "every weekday at 17:30", "daily at 8", "every 2 hours", '
    '"on the 1st of every month at 10", "tomorrow at 9", "in 20 minutes", '
    '"2026-12-01 14:00", or a cron expression such as "0 9 * * MON"'
)
MAX_AHEAD = timedelta(days=5 * 366)  # the furthest a one-shot or a repeat's period may be
TOO_FAR = "schedule at most 5 years ahead, and repeat at least once every 5 years."


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
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _unit_seconds(unit: str) -> int:
    unit = unit.rstrip("s")
    if unit in ("m", "min", "minute"):
        return 60
    if unit in ("h", "hr", "hour"):
        return 3600
    if unit in ("sec", "second"):
        return 1
    return UNIT_SECONDS[unit]


def _cron(minute_hour: time, dom: str = "*", dow: str = "*") -> str:
    return f"{minute_hour.minute} {minute_hour.hour} {dom} * {dow}"


def _day_numbers(text: str) -> str:
    words = re.findall(DAY + "s?", text)
    nums: list[int] = []
    for w in words:
        key = w if w in DAY_WORDS else w[:-1]
        if DAY_WORDS[key] not in nums:
            nums.append(DAY_WORDS[key])
    return ",".join(str(n) for n in sorted(nums, key=lambda d: (d - 1) % 7))


def _parse_cron(text: str, tz: ZoneInfo, now: datetime) -> CronWhen | None:
    text = CRON_ALIASES.get(text, text)
    fields = text.split()
    if len(fields) != 5 or not all(CRON_FIELD.match(f) for f in fields):
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
    if at - now > MAX_AHEAD:
        raise WhenParseError(f"I read {text!r} as {at:%d %b %Y}: {TOO_FAR}")
    if at <= now:
        raise WhenParseError(
            f"I read {text!r} as {at:%a %d %b %Y %H:%M}, which is in the past. "
            f'Give a future time, e.g. "tomorrow at 9" or "in 20 minutes".'
        )
    return OnceWhen(at.astimezone(UTC).replace(microsecond=0), at.tzinfo.key)  # type: ignore[union-attr]


def _local_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    return resolve_local(datetime.combine(day, at), tz)


def _parse_recurring(text: str, tz: ZoneInfo, now: datetime) -> When | None:
    if m := _match(DAILY, text):
        return CronWhen(_cron(_time_of(m)), tz.key)
    if m := _match(WEEKDAYS, text):
        return CronWhen(_cron(_time_of(m), dow="1-5"), tz.key)
    if m := _match(WEEKENDS, text):
        return CronWhen(_cron(_time_of(m), dow="6,0"), tz.key)
    if m := _match(DAY_LIST, text):
        return CronWhen(_cron(_time_of(m), dow=_day_numbers(m["days"] or m["plural"])), tz.key)
    if m := _match(MONTHLY, text):
        if m["last"] or m["last2"]:
            return CronWhen(_cron(_time_of(m), dom="L"), tz.key)
        dom = int(m["dom"] or m["dom2"] or m["dom3"] or 1)
        if not 1 <= dom <= 31:
            raise WhenParseError(f"there is no day {dom} in a month; use 1 to 31 or 'last'.")
        return CronWhen(_cron(_time_of(m), dom=str(dom)), tz.key)
    if m := INTERVAL.fullmatch(text):
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
        if seconds > MAX_AHEAD.total_seconds():
            raise WhenParseError(f"that repeat is too long; {TOO_FAR}")
        return IntervalWhen(seconds, now.astimezone(UTC).replace(second=0, microsecond=0), tz.key)
    return None


def _parse_once(text: str, tz: ZoneInfo, now: datetime) -> When | None:
    local_now = now.astimezone(tz)
    if m := IN.fullmatch(text):
        seconds = 1800 if m["half"] else _number(m["n"]) * _unit_seconds(m["unit"])
        if m["n2"]:
            seconds += int(m["n2"]) * 60
        if seconds > MAX_AHEAD.total_seconds():
            raise WhenParseError(f"{text!r} is too far away; {TOO_FAR}")
        return _future(now.astimezone(tz) + timedelta(seconds=seconds), now, text)
    if m := _match(RELATIVE_DAY, text):
        rel = m["rel"]
        offset = {"today": 0, "tonight": 0, "tomorrow": 1}.get(rel, 2)
        if rel in ("today",) and not (m["time"] or m["time2"]):
            return None
        default = time(20, 0) if rel == "tonight" else DEFAULT_TIME
        day = local_now.date() + timedelta(days=offset)
        return _future(_local_at(day, _time_of(m, default), tz), now, text)
    if m := AT_ONLY.fullmatch(text):
        at = _time_of(m)
        candidate = _local_at(local_now.date(), at, tz)
        if candidate <= now:
            candidate = _local_at(local_now.date() + timedelta(days=1), at, tz)
        return _future(candidate, now, text)
    if m := _match(NEXT_DAY, text):
        target = DAY_WORDS[m["day"]]
        at = _time_of(m)
        for ahead in range(8):
            day = local_now.date() + timedelta(days=ahead)
            if (day.isoweekday() % 7) == target:
                candidate = _local_at(day, at, tz)
                if candidate > now:
                    return _future(candidate, now, text)
        return None
    if m := ISO.fullmatch(text):
        try:
            parsed = datetime.fromisoformat(m["iso"].upper().replace("Z", "+00:00"))
        except ValueError:
            raise WhenParseError(f"{m['iso']!r} is not a real date.") from None
        if parsed.tzinfo is not None:
            return _future(parsed.astimezone(tz), now, text)
        if len(m["iso"]) == 10:
            return _future(_local_at(parsed.date(), _time_of(m), tz), now, text)
        return _future(resolve_local(parsed, tz), now, text)
    if m := _match(MONTH_DATE, text):
        day_num = int(m["d1"] or m["d2"])
        month = MONTHS[m["m1"] or m["m2"]]
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
    """Parse a when-phrase relative to `now`, in the chat's timezone `tz`.

    A phrase is at most MAX_WHEN_WORDS words and MAX_WHEN_CHARS characters, whoever wrote it
    (a person's /schedule or the model's schedule_create)."""
    normal = _normalise(text[: MAX_WHEN_CHARS * 4])
    if not normal:
        raise WhenParseError(f"Say when. Examples: {EXAMPLES}.")
    if len(normal) > MAX_WHEN_CHARS or len(normal.split()) > MAX_WHEN_WORDS:
        raise WhenParseError(
            f"A when-phrase is at most {MAX_WHEN_WORDS} words and {MAX_WHEN_CHARS} characters. "
            f"Try {EXAMPLES}."
        )
    try:
        return _parse_normal(normal, tz, now)
    except OverflowError:  # a date or a count past what datetime holds
        raise WhenParseError(f'"{_short(normal)}" is too far away; {TOO_FAR}') from None


def _parse_normal(normal: str, tz: ZoneInfo, now: datetime) -> When:
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
    day = DAY_WORDS.get(bare, DAY_WORDS.get(bare.removesuffix("s")))
    if day is not None:
        return f"on {DAY_NAMES[day]}"
    if re.fullmatch(STRICT_TIME, bare):
        return f"at {_parse_time_safe(bare)}"
    if bare in ("today", "tomorrow", "tonight", "noon", "midnight"):
        return bare
    if bare in MONTHS:
        return f"in {bare.title()}"
    if re.fullmatch(UNIT, bare) or bare in NUMBER_WORDS or bare.isdigit():
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
        if len(" ".join(words[:cut])) > MAX_WHEN_CHARS:
            continue
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
    head = " ".join(words[:MAX_WHEN_WORDS])[:MAX_WHEN_CHARS]
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
        and all(CRON_FIELD.match(f) for f in fields)
        and all(any(c.isdigit() or c == "*" for c in f) for f in fields[:2])
    )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
