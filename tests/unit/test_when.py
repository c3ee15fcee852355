"""The when-phrase grammar: phrases, their next runs (DST included), and helpful failures."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from orchestrator.scheduling.describe import describe
from orchestrator.scheduling.errors import WhenParseError
from orchestrator.scheduling.parse import parse_when, split_when_what
from orchestrator.scheduling.when import (
    CronWhen,
    IntervalWhen,
    OnceWhen,
    next_runs,
    resolve_local,
    shortest_gap,
    when_from_dict,
    when_to_dict,
)

LONDON, NEW_YORK, SYDNEY = "Europe/London", "America/New_York", "Australia/Sydney"
# Wednesday 25 March 2026, 10:07 in London (GMT; clocks go forward on Sunday 29 March)
NOW = "2026-03-25T10:07"


def runs(phrase: str, tz: str = LONDON, now: str = NOW, count: int = 1) -> list[str]:
    zone = ZoneInfo(tz)
    start = datetime.fromisoformat(now).replace(tzinfo=zone)
    when = parse_when(phrase, zone, start)
    return [t.isoformat() for t in next_runs(when, start, count)]


PHRASES = [
    ("0 9 * * MON", ["2026-03-30T09:00:00+01:00", "2026-04-06T09:00:00+01:00"]),
    ("every monday at 9am", ["2026-03-30T09:00:00+01:00", "2026-04-06T09:00:00+01:00"]),
    (
        "every weekday at 17:30",
        [
            "2026-03-25T17:30:00+00:00",
            "2026-03-26T17:30:00+00:00",
            "2026-03-27T17:30:00+00:00",
            "2026-03-30T17:30:00+01:00",
        ],
    ),
    ("daily at 8", ["2026-03-26T08:00:00+00:00", "2026-03-27T08:00:00+00:00"]),
    ("every day at 8:15pm", ["2026-03-25T20:15:00+00:00"]),
    ("Daily at 6PM.", ["2026-03-25T18:00:00+00:00"]),
    ("every day at midnight", ["2026-03-26T00:00:00+00:00"]),
    ("every 2 hours", ["2026-03-25T12:07:00+00:00", "2026-03-25T14:07:00+00:00"]),
    ("every 30 minutes", ["2026-03-25T10:37:00+00:00", "2026-03-25T11:07:00+00:00"]),
    ("every 15 mins", ["2026-03-25T10:22:00+00:00"]),
    ("every hour", ["2026-03-25T11:07:00+00:00", "2026-03-25T12:07:00+00:00"]),
    ("hourly", ["2026-03-25T11:07:00+00:00"]),
    ("every 2 weeks", ["2026-04-08T11:07:00+01:00"]),
    (
        "on the 1st of every month at 10",
        ["2026-04-01T10:00:00+01:00", "2026-05-01T10:00:00+01:00"],
    ),
    ("monthly on the 15th at 9:30", ["2026-04-15T09:30:00+01:00"]),
    (
        "on the last day of every month at 18:00",
        ["2026-03-31T18:00:00+01:00", "2026-04-30T18:00:00+01:00"],
    ),
    (
        "every monday and thursday at 9:30",
        ["2026-03-26T09:30:00+00:00", "2026-03-30T09:30:00+01:00"],
    ),
    ("mondays", ["2026-03-30T09:00:00+01:00"]),
    (
        "every mon, wed and fri at 7am",
        ["2026-03-27T07:00:00+00:00", "2026-03-30T07:00:00+01:00", "2026-04-01T07:00:00+01:00"],
    ),
    ("at 9am every weekday", ["2026-03-26T09:00:00+00:00", "2026-03-27T09:00:00+00:00"]),
    ("every weekend at 10", ["2026-03-28T10:00:00+00:00", "2026-03-29T10:00:00+01:00"]),
    ("@weekly", ["2026-03-29T00:00:00+00:00"]),
    ("tomorrow at 9", ["2026-03-26T09:00:00+00:00"]),
    ("tomorrow", ["2026-03-26T09:00:00+00:00"]),
    ("noon tomorrow", ["2026-03-26T12:00:00+00:00"]),
    ("tonight", ["2026-03-25T20:00:00+00:00"]),
    ("in 20 minutes", ["2026-03-25T10:27:00+00:00"]),
    ("in 2 hours 30 minutes", ["2026-03-25T12:37:00+00:00"]),
    ("in half an hour", ["2026-03-25T10:37:00+00:00"]),
    ("at 17:00", ["2026-03-25T17:00:00+00:00"]),
    ("at 9", ["2026-03-26T09:00:00+00:00"]),
    ("next friday at 3pm", ["2026-03-27T15:00:00+00:00"]),
    ("2026-12-01 14:00", ["2026-12-01T14:00:00+00:00"]),
    ("2026-12-01", ["2026-12-01T09:00:00+00:00"]),
    ("2026-06-01T14:00+02:00", ["2026-06-01T13:00:00+01:00"]),
    ("1 december at 14:00", ["2026-12-01T14:00:00+00:00"]),
    ("dec 25th 2026 at noon", ["2026-12-25T12:00:00+00:00"]),
]


@pytest.mark.parametrize(("phrase", "expected"), PHRASES, ids=[p for p, _ in PHRASES])
def test_phrase_next_runs(phrase: str, expected: list[str]) -> None:
    assert runs(phrase, count=len(expected)) == expected


DST = [
    # spring forward in London: 01:00-02:00 does not exist on 29 March 2026
    (
        "every day at 1:30",
        LONDON,
        "2026-03-27T12:00",
        ["2026-03-28T01:30:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"],
    ),
    # fall back in London: 01:30 happens twice on 25 October 2026; it fires once, the first
    (
        "every day at 1:30",
        LONDON,
        "2026-10-23T12:00",
        ["2026-10-24T01:30:00+01:00", "2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"],
    ),
    (
        "every monday at 9am",
        LONDON,
        "2026-10-20T12:00",
        ["2026-10-26T09:00:00+00:00", "2026-11-02T09:00:00+00:00"],
    ),
    # two nonexistent half hours collapse onto one run at 02:00 BST
    (
        "*/30 * * * *",
        LONDON,
        "2026-03-29T00:10",
        ["2026-03-29T00:30:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-29T02:30:00+01:00"],
    ),
    # a fixed interval counts real hours
    ("every hour", LONDON, "2026-03-29T00:10", ["2026-03-29T02:10:00+01:00"]),
    (
        "every day at 2:30",
        NEW_YORK,
        "2026-03-07T12:00",
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
    ),
    (
        "every day at 1:30",
        NEW_YORK,
        "2026-10-31T12:00",
        ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
    ),
    (
        "every monday at 9am",
        NEW_YORK,
        "2026-03-01T12:00",
        ["2026-03-02T09:00:00-05:00", "2026-03-09T09:00:00-04:00"],
    ),
    (
        "every day at 2:30",
        SYDNEY,
        "2026-10-03T12:00",
        ["2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"],
    ),
    (
        "every day at 2:30",
        SYDNEY,
        "2026-04-04T12:00",
        ["2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"],
    ),
    (
        "every sunday at 9am",
        SYDNEY,
        "2026-03-30T12:00",
        ["2026-04-05T09:00:00+10:00", "2026-04-12T09:00:00+10:00"],
    ),
    ("tomorrow at 2:30", SYDNEY, "2026-10-03T12:00", ["2026-10-04T03:00:00+11:00"]),
]


@pytest.mark.parametrize(("phrase", "tz", "now", "expected"), DST)
def test_dst_runs_keep_the_wall_clock_time(
    phrase: str, tz: str, now: str, expected: list[str]
) -> None:
    assert runs(phrase, tz, now, len(expected)) == expected


def test_ambiguous_and_missing_wall_times_resolve_once() -> None:
    zone = ZoneInfo(LONDON)
    gap = resolve_local(datetime(2026, 3, 29, 1, 30), zone)
    assert gap.isoformat() == "2026-03-29T02:00:00+01:00"
    fold = resolve_local(datetime(2026, 10, 25, 1, 30), zone)
    assert fold.utcoffset().total_seconds() == 3600  # first occurrence, still BST


@pytest.mark.parametrize(
    ("phrase", "words"),
    [
        ("0 9 * * MON", "every Monday at 09:00"),
        ("every weekday at 17:30", "every weekday at 17:30"),
        ("every mon, wed and fri at 7am", "every Monday, Wednesday and Friday at 07:00"),
        ("daily at 8", "every day at 08:00"),
        ("on the 1st of every month at 10", "on the 1st of every month at 10:00"),
        ("every 2 hours", "every 2 hours"),
        ("every 30 minutes", "every 30 minutes"),
        ("tomorrow at 9", "once, on Thu 26 Mar 2026 at 09:00"),
        ("5 4 * 6 *", "on the cron schedule `5 4 * 6 *`"),
    ],
)
def test_describe_says_it_in_words(phrase: str, words: str) -> None:
    zone = ZoneInfo(LONDON)
    now = datetime.fromisoformat(NOW).replace(tzinfo=zone)
    assert describe(parse_when(phrase, zone, now)) == words


def test_unknown_phrase_says_what_it_understood_and_gives_examples() -> None:
    with pytest.raises(WhenParseError) as caught:
        runs("every funday at 9")
    message = str(caught.value)
    assert "I understood: it repeats" in message
    assert "'funday'" in message
    assert "every monday at 9am" in message and "0 9 * * MON" in message


@pytest.mark.parametrize(
    ("phrase", "fragment"),
    [
        ("today at 8", "in the past"),
        ("2020-01-01 10:00", "in the past"),
        ("0 25 * * *", "cron expression"),
        ("every day at 25:00", "not a time of day"),
        ("every day at 13pm", "1 to 12"),
        ("2026-02-30 10:00", "not a real date"),
        ("every 20 seconds", "one minute"),
        ("", "Examples"),
    ],
)
def test_refusals_explain_themselves(phrase: str, fragment: str) -> None:
    with pytest.raises(WhenParseError, match=fragment):
        runs(phrase)


def test_bare_number_is_not_a_time() -> None:
    with pytest.raises(WhenParseError):
        runs("5")


@pytest.mark.parametrize(
    ("text", "words", "what"),
    [
        (
            "every monday at 9am check the weather",
            "every Monday at 09:00",
            "check the weather",
        ),
        (
            "Every Monday, check our YouTube channel stats, create a report in ClickUp, "
            "and notify the team on Discord",
            "every Monday at 09:00",
            "check our YouTube channel stats, create a report in ClickUp, and notify the "
            "team on Discord",
        ),
        ("0 9 * * MON post the report", "every Monday at 09:00", "post the report"),
        ("daily at 8 2 reports please", "every day at 08:00", "2 reports please"),
        ("in 20 minutes: remind me", "once, on Wed 25 Mar 2026 at 10:27", "remind me"),
        ("every day at 8 am - send the digest", "every day at 08:00", "send the digest"),
    ],
)
def test_split_takes_the_longest_when_prefix(text: str, words: str, what: str) -> None:
    zone = ZoneInfo(LONDON)
    now = datetime.fromisoformat(NOW).replace(tzinfo=zone)
    when, rest = split_when_what(text, zone, now)
    assert (describe(when), rest) == (words, what)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("every day at 9", "not what to do"),
        ("today at 8 check", "in the past"),
        ("whenever you like check", "Usage: /schedule <when> <what>"),
        ("0 25 * * * report", "cron expression"),
    ],
)
def test_split_failures_are_helpful(text: str, fragment: str) -> None:
    zone = ZoneInfo(LONDON)
    now = datetime.fromisoformat(NOW).replace(tzinfo=zone)
    with pytest.raises(WhenParseError, match=fragment):
        split_when_what(text, zone, now)


@pytest.mark.parametrize("phrase", ["0 9 * * MON", "every 2 hours", "tomorrow at 9"])
def test_when_round_trips_through_json_data(phrase: str) -> None:
    zone = ZoneInfo(SYDNEY)
    now = datetime(2026, 3, 25, tzinfo=UTC)
    when = parse_when(phrase, zone, now)
    assert when_from_dict(when_to_dict(when)) == when


def test_kinds_and_shortest_gap() -> None:
    zone = ZoneInfo(LONDON)
    now = datetime.fromisoformat(NOW).replace(tzinfo=zone)
    assert isinstance(parse_when("* * * * *", zone, now), CronWhen)
    assert shortest_gap(parse_when("* * * * *", zone, now), now) == 60
    assert isinstance(parse_when("every 5 minutes", zone, now), IntervalWhen)
    assert shortest_gap(parse_when("every 5 minutes", zone, now), now) == 300
    once = parse_when("in 5 minutes", zone, now)
    assert isinstance(once, OnceWhen) and shortest_gap(once, now) is None
    assert next_runs(once, once.at, 3) == []
