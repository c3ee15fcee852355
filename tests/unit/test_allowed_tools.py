"""The allowed tools per chat policy are kept between messages, never past a change of the
policy or of the catalogue."""

from __future__ import annotations

from dataclasses import replace

from orchestrator.config import ChatPolicy
from orchestrator.mcp.tools import ToolSpec
from orchestrator.policy import AllowedTools

CATALOGUE = [
    ToolSpec("xero", "list-invoices", "List invoices"),
    ToolSpec("xero", "create-invoice", "Create an invoice"),
    ToolSpec("clock", "now", "The time"),
]


def named(tool: ToolSpec) -> str:
    return f"{tool.server}__{tool.name}"


def test_the_policy_decides_and_the_result_is_kept() -> None:
    allowed = AllowedTools(named)
    every, groups = allowed.get(ChatPolicy(), CATALOGUE)
    assert [t.key for t in every] == ["xero/list-invoices", "xero/create-invoice", "clock/now"]
    assert list(groups.servers) == ["xero", "clock"]
    assert groups.servers["xero"].names == ("xero__list-invoices", "xero__create-invoice")
    again, groups_again = allowed.get(ChatPolicy(), list(CATALOGUE))
    assert again is every and groups_again is groups  # same policy, same tool objects


def test_a_changed_policy_is_never_answered_from_the_cache() -> None:
    allowed = AllowedTools(named)
    allowed.get(ChatPolicy(), CATALOGUE)
    denied, _ = allowed.get(ChatPolicy(deny=["xero/create-invoice"]), CATALOGUE)
    assert [t.key for t in denied] == ["xero/list-invoices", "clock/now"]
    only, groups = allowed.get(ChatPolicy(tools=["clock"]), CATALOGUE)
    assert [t.key for t in only] == ["clock/now"] and list(groups.servers) == ["clock"]


def test_new_tool_objects_from_the_hub_are_used_at_once() -> None:
    allowed = AllowedTools(named)
    allowed.get(ChatPolicy(), CATALOGUE)
    changed = [replace(CATALOGUE[0], description="List invoices, now with filters"), *CATALOGUE[1:]]
    tools, _ = allowed.get(ChatPolicy(), changed)
    assert tools[0].description == "List invoices, now with filters"


def test_the_cache_keeps_only_the_newest_entries() -> None:
    allowed = AllowedTools(named, size=2)
    first, _ = allowed.get(ChatPolicy(deny=["a"]), CATALOGUE)
    allowed.get(ChatPolicy(deny=["b"]), CATALOGUE)
    allowed.get(ChatPolicy(deny=["c"]), CATALOGUE)
    assert len(allowed._cache) == 2
    assert allowed.get(ChatPolicy(deny=["a"]), CATALOGUE)[0] is not first  # rebuilt
