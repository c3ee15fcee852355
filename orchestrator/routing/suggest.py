"""Ready-to-paste `/run` lines, for chats without an LLM."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from orchestrator.mcp.tools import ToolSpec

_PLACEHOLDER = {
    "string": "...",
    "integer": 0,
    "number": 0,
    "boolean": False,
    "array": [],
    "object": {},
}


def example_arguments(tool: ToolSpec) -> dict[str, Any]:
    props = tool.input_schema.get("properties", {}) or {}
    out: dict[str, Any] = {}
    for name in tool.required_params():
        spec = props.get(name, {}) or {}
        if spec.get("enum"):
            out[name] = spec["enum"][0]
        elif "default" in spec:
            out[name] = spec["default"]
        else:
            out[name] = _PLACEHOLDER.get(str(spec.get("type", "string")), "...")
    return out


def run_line(tool: ToolSpec) -> str:
    return f"/run {tool.server} {tool.name} {json.dumps(example_arguments(tool))}"


def suggestion_text(preamble: str, tools: Sequence[ToolSpec]) -> str:
    if not tools:
        return preamble
    lines = [preamble, "", "Tools that look relevant:"]
    for tool in tools:
        first = (tool.description or "").strip().split("\n")[0][:120]
        lines.append(f"- {tool.key}: {first}\n  `{run_line(tool)}`")
    return "\n".join(lines)
