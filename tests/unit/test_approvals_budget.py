"""Which calls wait for approval, and how a big tool output is shortened by its structure."""

from __future__ import annotations

import json

import pytest

from orchestrator.config import parse_config
from orchestrator.errors import ConfigError
from orchestrator.llm.approvals import ApprovalRules
from orchestrator.llm.guard import RepeatGuard
from orchestrator.llm.output_budget import fit_output
from orchestrator.mcp.tools import ToolSpec

RULES = ApprovalRules.from_config(
    parse_config(
        """
mcp_servers:
  a:
    command: x
    write_tools: [marked_read_only]
    safe_tools: [marked_destructive]
  strict:
    command: x
    approve_unannotated: true
""",
        env={},
    )
)


@pytest.mark.parametrize(
    ("server", "name", "hints", "waits"),
    [
        ("a", "plain", {}, False),  # unannotated: the server's default (run)
        ("strict", "plain", {}, True),  # unannotated on a strict server
        ("a", "drop", {"destructiveHint": True}, True),
        ("a", "drop", {"destructiveHint": True, "readOnlyHint": True}, False),
        ("a", "look", {"readOnlyHint": True}, False),
        ("strict", "add", {"readOnlyHint": False, "destructiveHint": False}, False),
        ("a", "marked_read_only", {"readOnlyHint": True}, True),  # config wins: write_tools
        ("a", "marked_destructive", {"destructiveHint": True}, False),  # config wins: safe_tools
    ],
)
def test_approval_rules(server: str, name: str, hints: dict[str, bool], waits: bool) -> None:
    assert RULES.needs_approval(ToolSpec(server, name, annotations=hints)) is waits


def test_a_tool_cannot_be_both_write_and_safe() -> None:
    with pytest.raises(ConfigError, match="both `write_tools` and `safe_tools`"):
        parse_config("mcp_servers:\n  a: {command: x, write_tools: [t], safe_tools: [t]}\n", env={})


def test_a_json_list_keeps_its_first_items_and_says_how_many_more() -> None:
    items = [{"id": i, "text": "y" * 100} for i in range(500)]
    out = fit_output(json.dumps(items), 1000, {"properties": {"cursor": {}, "query": {}}})
    data, note = out.split("\n\n[shortened to fit:", 1)
    kept = json.loads(data)
    assert kept == items[: len(kept)] and 0 < len(kept) < 500
    assert f"… and {500 - len(kept)} more of 500" in note and "`cursor`" in note
    assert len(out) <= 1000 * 4


def test_the_biggest_list_inside_an_object_is_the_one_shortened() -> None:
    doc = {"total": 300, "tasks": [{"name": f"task {i}", "body": "z" * 80} for i in range(300)]}
    data, note = fit_output(json.dumps(doc), 800).split("\n\n[shortened to fit:", 1)
    shortened = json.loads(data)
    assert shortened["total"] == 300 and 0 < len(shortened["tasks"]) < 300
    assert "in `tasks`" in note and "narrower arguments" in note


def test_text_is_cut_at_a_line_boundary_and_small_output_is_untouched() -> None:
    lines = [f"line {i}: " + "w" * 60 for i in range(400)]
    out = fit_output("\n".join(lines), 500)
    body = out.split("\n\n[shortened to fit:", 1)[0]
    assert body.splitlines() == lines[: len(body.splitlines())]
    assert fit_output("small", 500) == "small"


def test_a_repeat_is_keyed_by_arguments_whatever_their_order() -> None:
    guard = RepeatGuard()
    guard.record("t", {"a": 1, "b": 2}, "result")
    assert guard.earlier("t", {"b": 2, "a": 1}) is not None
    assert guard.earlier("t", {"a": 2, "b": 2}) is None
