"""Hostile when-phrases and /run arguments (issue 27): bounded work counted in regex steps, not
seconds (see tests/regex_steps.py), and usage errors that stay usage errors."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from orchestrator.commands.builtin import MAX_JSON_DEPTH, parse_json_object
from orchestrator.errors import UsageError
from orchestrator.scheduling import parse
from orchestrator.scheduling.errors import WhenParseError
from orchestrator.scheduling.grammar import DAY_WORDS, MONTHS, NUMBER_WORDS
from orchestrator.scheduling.when import MAX_WHEN_CHARS, MAX_WHEN_WORDS
from tests.regex_steps import StepMeter, count_steps

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# Steps per character of phrase, over every pattern the parser tries (about 25 of them). The
# fixed grammar measures under 150; the old one took millions of steps on 13 words.
STEPS_PER_CHAR = 400
BUDGET = 2_000_000

WORDS = [
    *DAY_WORDS, *(d + "s" for d in DAY_WORDS), *MONTHS, *NUMBER_WORDS,
    "every", "each", "on", "at", "and", "&", ",", "the", "of", "in", "after", "next", "this",
    "day", "days", "week", "weeks", "month", "hours", "minutes", "9am", "17:30", "noon", "9",
    "1st", "last", "daily", "weekly", "monthly", "hourly", "weekdays", "tomorrow", "today",
    "2026-12-01", "14:00", "x", "*", "0", "99999999999",
]  # fmt: skip


def steps_to_parse(text: str) -> int:
    meter = StepMeter(BUDGET)
    with meter.patching(parse), contextlib.suppress(WhenParseError):
        parse.parse_when(text, UTC_ZONE, NOW)
    return meter.steps


def grammar_steps(text: str) -> int:
    """Steps of the grammar alone, without the length cap parse_when puts in front of it."""
    meter = StepMeter(BUDGET)
    with meter.patching(parse), contextlib.suppress(WhenParseError):
        parse._parse_normal(parse._normalise(text), UTC_ZONE, NOW)
    return meter.steps


def test_the_meter_sees_catastrophic_backtracking() -> None:
    """The step counter is real: a textbook exponential pattern blows its budget."""
    with pytest.raises(AssertionError, match="regex steps"):
        count_steps(r"(?:a|a)*b", "a" * 30, budget=100_000, mode="fullmatch")
    assert count_steps(r"(?>a|a)*+b", "a" * 30, budget=100_000, mode="fullmatch") < 1000


def test_the_reported_freeze_phrase_takes_linear_work() -> None:
    """ "every " + "tues " x n + "x": 24 words froze the bot for 16.5 s (2^n backtracking)."""
    small = grammar_steps("every " + "tues " * 12 + "x")
    double = grammar_steps("every " + "tues " * 24 + "x")
    quadruple = grammar_steps("every " + "tues " * 48 + "x")
    assert double < 2.2 * small and quadruple < 2.2 * double, (small, double, quadruple)
    assert double < STEPS_PER_CHAR * len("every " + "tues " * 24 + "x")


@pytest.mark.parametrize(
    "phrase",
    [
        "every " + "tues " * 24 + "x",
        "every " + "thurs, " * 30 + "x",
        "every " + "mondays and " * 20 + "x",
        "on " + "mondays & " * 20 + "9",
        "in " + "9" * 200 + " minutes",
        "every " + "sat " * 11 + "at 9am x",
    ],
)
def test_worst_phrases_found_stay_within_the_step_bound(phrase: str) -> None:
    assert steps_to_parse(phrase) <= STEPS_PER_CHAR * max(len(phrase), MAX_WHEN_CHARS)
    assert grammar_steps(phrase) <= STEPS_PER_CHAR * len(phrase)


def test_a_phrase_past_the_cap_is_refused_with_the_limit() -> None:
    with pytest.raises(WhenParseError, match=f"at most {MAX_WHEN_WORDS} words"):
        parse.parse_when("every " + "tues " * 24 + "x", UTC_ZONE, NOW)


phrases = st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phrases)
def test_any_phrase_of_when_words_is_linear_work_and_a_clean_answer(text: str) -> None:
    steps = grammar_steps(text)
    target(steps / (len(text) + 1), label="steps per character")  # hypothesis hunts the worst
    assert steps <= STEPS_PER_CHAR * (len(text) + 1)
    # whatever the words, the answer is a schedule or a usage message, never a crash
    with contextlib.suppress(WhenParseError):
        parse.parse_when(text, UTC_ZONE, NOW)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_as_a_schedule_gets_a_schedule_or_a_usage_message(text: str) -> None:
    with contextlib.suppress(WhenParseError):
        parse.split_when_what(text, UTC_ZONE, NOW)


@pytest.mark.parametrize(
    "phrase",
    [
        "in 99999999999 days",
        "every 99999999999 weeks",
        "in 99999999999 minutes",
        "9999-12-31 23:59",
    ],
)
def test_numbers_out_of_range_are_usage_messages(phrase: str) -> None:
    with pytest.raises(WhenParseError, match="too far|too long|5 years"):
        parse.parse_when(phrase, UTC_ZONE, NOW)


def test_schedule_in_99999999999_days_says_too_far() -> None:
    with pytest.raises(WhenParseError, match="too far"):
        parse.split_when_what("in 99999999999 days check the weather", UTC_ZONE, NOW)


# -- /run arguments -------------------------------------------------------------------------
def test_run_arguments_nested_600_levels_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="nested too deeply"):
        parse_json_object('{"a": ' + "[" * 600 + "]" * 600 + "}")


def test_run_arguments_at_the_depth_limit_still_parse() -> None:
    raw = '{"a": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    assert "a" in parse_json_object(raw)
    assert parse_json_object('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')["a"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(lambda v: __import__("json").dumps(v))))
def test_any_run_arguments_give_an_object_or_a_usage_error(raw: str) -> None:
    with contextlib.suppress(UsageError):
        assert isinstance(parse_json_object(raw), dict)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=3000))
def test_any_nesting_depth_gives_an_object_or_a_usage_error(depth: int) -> None:
    raw = '{"a": ' + "[" * depth + "]" * depth + "}"
    try:
        parse_json_object(raw)
    except UsageError:
        assert depth >= MAX_JSON_DEPTH
