"""The when-phrase vocabulary: day, month and number words, and the regex patterns built on them."""

from __future__ import annotations

import re

from orchestrator.scheduling.when import DAY_NAMES

DAY_WORDS = {
    "monday": 1, "mon": 1,
    "tuesday": 2, "tues": 2, "tue": 2,
    "wednesday": 3, "weds": 3, "wed": 3,
    "thursday": 4, "thurs": 4, "thur": 4, "thu": 4,
    "friday": 5, "fri": 5,
    "saturday": 6, "sat": 6,
    "sunday": 0, "sun": 0,
}  # fmt: skip
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty-five": 45, "ninety": 90,
}  # fmt: skip
UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}

alt = "|".join
DAY = rf"(?:{alt(sorted(DAY_WORDS, key=len, reverse=True))})"
DAYS_PLURAL = rf"(?:{alt(d.lower() + 's' for d in DAY_NAMES)})"
# Lists repeat, so each item and separator is atomic (`(?>...)`): "tues" is read one way only
# (`tues`, never `tue`+`s` on a retry), and a phrase that fails fails in linear time. Every list
# item is followed by a non-letter, so the longest reading is the only one that can succeed.
DAY_ITEM = rf"(?>{DAY}s?)"
LIST_SEP = r"(?>\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*|\s+)"
DAYLIST = rf"{DAY_ITEM}(?:{LIST_SEP}{DAY_ITEM})*+"
MONTH = rf"(?:{alt(sorted(MONTHS, key=len, reverse=True))})"
NUMBER = rf"(?:\d+|{alt(sorted(NUMBER_WORDS, key=len, reverse=True))})"
TIME = r"(?:noon|midday|midnight|\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?(?:\s*o'?clock)?)"
# a bare time needs "at", a colon or am/pm, so "5 reports" is never read as 05:00
STRICT_TIME = r"(?:noon|midday|midnight|\d{1,2}[:.]\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?|\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.))"  # noqa: E501
AT = rf"(?:(?:at|@)\s+(?P<time>{TIME})|(?P<time2>{STRICT_TIME}))"
EVERY = r"(?:every|each)"
UNIT = r"(?P<unit>seconds?|secs?|minutes?|mins?|m|hours?|hrs?|h|days?|weeks?)"

CRON_ATOM = r"(?:[*?]|\d+[lw]?|l|w|lw|[a-z]{3})"
CRON_FIELD = re.compile(rf"^{CRON_ATOM}(?:[/,\-#]{CRON_ATOM})*$", re.IGNORECASE)
CRON_ALIASES = {
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


DAILY = _with_time(rf"(?:{EVERY}\s+day|daily|everyday|{EVERY}\s+morning)")
WEEKDAYS = _with_time(
    rf"(?:(?:{EVERY}|on)\s+(?:week\s?days?|work\s?days?|business\s+days?)|weekdays|workdays)"
)
WEEKENDS = _with_time(rf"(?:(?:{EVERY}|on)\s+weekends?(?:\s+days?)?|weekends)")
DAY_LIST = _with_time(
    rf"(?:(?:{EVERY}\s+(?:week\s+on\s+)?|weekly\s+on\s+)(?P<days>{DAYLIST})"
    rf"|(?:on\s+)?(?P<plural>{DAYS_PLURAL}(?:(?>\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*)"
    rf"{DAYS_PLURAL})*+))"
)
MONTHLY = _with_time(
    r"(?:(?:on\s+)?the\s+(?:(?P<dom>\d{1,2})(?:st|nd|rd|th)?|(?P<last>last))(?:\s+day)?"
    r"\s+of\s+(?:every|each|the)\s+month"
    r"|(?:on\s+)?day\s+(?P<dom2>\d{1,2})\s+of\s+(?:every|each)\s+month"
    rf"|(?:{EVERY}\s+month|monthly)(?:\s+on\s+the\s+(?:(?P<dom3>\d{{1,2}})(?:st|nd|rd|th)?"
    r"|(?P<last2>last)(?:\s+day)?))?)"
)
INTERVAL = re.compile(
    rf"(?:{EVERY}\s+(?:(?P<n>{NUMBER})\s*)?{UNIT}|(?P<hourly>hourly)|{EVERY}\s+half\s+(?:an\s+)?hour)"
)
IN = re.compile(
    rf"(?:in|after)\s+(?:(?P<half>half\s+an\s+hour)|(?P<n>{NUMBER})\s*{UNIT}"
    rf"(?:\s+(?:and\s+)?(?P<n2>\d+)\s*(?P<unit2>minutes?|mins?|m))?)"
)
RELATIVE_DAY = _with_time(r"(?P<rel>today|tomorrow|tonight|the\s+day\s+after\s+tomorrow)")
NEXT_DAY = _with_time(rf"(?:(?:on|next|this|coming)\s+)?(?P<day>{DAY})")
AT_ONLY = re.compile(rf"(?:(?:at|@)\s+(?P<time>{TIME})|(?P<time2>{STRICT_TIME}))(?:\s+today)?")
ISO = re.compile(
    r"(?:on\s+)?(?P<iso>\d{4}-\d{2}-\d{2}(?:[t ]\d{1,2}:\d{2}(?::\d{2})?(?:z|[+-]\d{2}:?\d{2})?)?)"
    rf"(?:\s+{AT})?"
)
MONTH_DATE = _with_time(
    rf"(?:on\s+)?(?:the\s+)?(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{MONTH})"
    rf"|(?P<m2>{MONTH})\s+(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?)(?:,?\s+(?P<year>\d{{4}}))?"
)
