"""(server, tool) <-> LLM-safe function names: exact both ways, collisions handled."""

from __future__ import annotations

import re

from orchestrator.mcp.names import ToolNameMap
from orchestrator.mcp.tools import ToolSpec

SAFE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def test_plain_names_are_readable_and_map_back() -> None:
    names = ToolNameMap([ToolSpec("time", "get_current_time")])
    assert names.safe_name("time", "get_current_time") == "time__get_current_time"
    assert names.resolve("time__get_current_time") == ("time", "get_current_time")


def test_unsafe_and_long_names_are_made_safe_and_still_map_back_exactly() -> None:
    tricky = [
        ("everything", "get-sum"),
        ("files", "read file.txt"),
        ("srv", "tool/with/slash"),
        ("a" * 40, "b" * 40),
        ("x", "ünïcödé"),
        ("x", "a.b"),
        ("x", "a_b"),
    ]
    names = ToolNameMap()
    issued = {pair: names.safe_name(*pair) for pair in tricky}
    assert all(SAFE.match(n) for n in issued.values())
    assert len(set(issued.values())) == len(tricky)
    assert all(names.resolve(n) == pair for pair, n in issued.items())


def test_same_tool_name_on_two_servers_stays_distinct() -> None:
    names = ToolNameMap([ToolSpec("github", "search"), ToolSpec("web", "search")])
    a, b = names.safe_name("github", "search"), names.safe_name("web", "search")
    assert (
        a != b
        and names.resolve(a) == ("github", "search")
        and names.resolve(b) == ("web", "search")
    )


def test_a_collision_after_sanitising_gets_a_distinct_name() -> None:
    names = ToolNameMap()
    first = names.safe_name("x", "a b")  # not safe: hashed
    second = names.safe_name("x", "a_b")
    assert first != second
    assert names.resolve(first) == ("x", "a b") and names.resolve(second) == ("x", "a_b")


def test_names_never_issued_do_not_resolve() -> None:
    assert ToolNameMap([ToolSpec("time", "t")]).resolve("time__other") is None
