"""Splitting and Markdown rendering shared by the Telegram and Discord servers."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from custom_servers._text import (
    markdown_to_telegram_html,
    parse_destinations,
    resolve_destination,
    split_message,
    utf16_len,
)
from tests.fakes.telegram_api import check_text


def test_short_text_is_one_part() -> None:
    assert split_message("hello", 2000) == ["hello"]


def test_parts_are_cut_at_line_ends_and_lose_nothing() -> None:
    lines = [f"line {i} " + "x" * (i % 50) for i in range(400)]
    parts = split_message("\n".join(lines), 2000)
    assert all(len(p) <= 2000 for p in parts) and len(parts) > 3
    assert "\n".join(parts).split("\n") == lines


def test_a_code_block_cut_in_two_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"x = {i}" for i in range(600))
    parts = split_message(f"Intro\n```python\n{code}\n```\nafter", 1000)
    assert all(len(p) <= 1000 and p.count("```") % 2 == 0 for p in parts)
    assert all(p.startswith("```python\n") for p in parts[1:])
    kept = [line for p in parts for line in p.split("\n") if line.startswith("x = ")]
    assert kept == code.split("\n") and parts[-1].endswith("```\nafter")


def test_one_endless_word_is_cut_hard() -> None:
    parts = split_message("a" * 5000, 2000)
    assert [len(p) for p in parts] == [1996, 1996, 1008]


def test_telegram_counts_emoji_as_two() -> None:
    parts = split_message("😀" * 3000, 4096, utf16_len)
    assert all(utf16_len(p) <= 4096 for p in parts) and "".join(parts) == "😀" * 3000


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("**bold** and __also__", "<b>bold</b> and <b>also</b>"),
        ("*it* and _it_ but snake_case_name", "<i>it</i> and <i>it</i> but snake_case_name"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("`x<y>` code", "<code>x&lt;y&gt;</code> code"),
        (
            "```sql\nSELECT 1 < 2;\n```",
            '<pre><code class="language-sql">SELECT 1 &lt; 2;</code></pre>',
        ),
        (
            "[docs](https://example.com/a?b=1&c=2)",
            '<a href="https://example.com/a?b=1&amp;c=2">docs</a>',
        ),
        ("# Weekly report", "<b>Weekly report</b>"),
        ("~~gone~~ **unclosed", "<s>gone</s> **unclosed"),
    ],
)
def test_markdown_becomes_html_telegram_parses(markdown: str, html: str) -> None:
    rendered = markdown_to_telegram_html(markdown)
    assert rendered == html
    check_text(rendered, "HTML")  # the fake Bot API's parser accepts it


def test_destinations_from_json_or_pairs() -> None:
    assert parse_destinations('{"Team": -100123}') == {"team": "-100123"}
    assert parse_destinations(" team=-1,ops = -2 ") == {"team": "-1", "ops": "-2"}
    assert parse_destinations("") == {}
    with pytest.raises(ValueError):
        parse_destinations("team")


def test_a_destination_is_a_known_name_or_an_id() -> None:
    names = {"team": "-100123"}
    assert resolve_destination("#Team", names, str.isdigit) == "-100123"
    assert resolve_destination("42", names, str.isdigit) == "42"
    with pytest.raises(ToolError, match="unknown destination 'ops'"):
        resolve_destination("ops", names, str.isdigit)
