"""Catalogue files, in either of two shapes (anything else is refused with both named):

- `orchestrator tools --json` output: `{"servers": [{"name": S, "tools": [tool, ...]}, ...]}`;
- a mapping `{server: [tool, ...]}`, each list what that server's `tools/list` returns.

A tool is an MCP tool object: `name`, and `description` / `inputSchema` when it has them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.errors import ConfigError
from orchestrator.mcp.tools import ToolSpec

FORMATS = (
    'expected `orchestrator tools --json` output ({"servers": [{"name": ..., "tools": [...]}]}) '
    'or a mapping of server names to MCP tool lists ({"time": [{"name": ...}]})'
)
# Keys of a server entry in `tools --json` output: a "tool" carrying them is a misread server.
SERVER_KEYS = frozenset({"tools", "state", "tool_count", "last_error", "restarts"})


def _is_tools_json(data: dict[str, Any]) -> bool:
    servers = data.get("servers")
    return (
        set(data) == {"servers"}
        and isinstance(servers, list)
        and all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in servers)
        and all("tools" in s for s in servers)
    )


def specs_from_mapping(data: Any, source: str = "<catalogue>") -> list[ToolSpec]:
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: {FORMATS}"])
    if _is_tools_json(data):
        data = {s["name"]: s["tools"] for s in data["servers"]}
    out = []
    for server, tools in data.items():
        if not isinstance(tools, list):
            raise ConfigError([f"{source}: {server}: expected a list of tools"])
        for tool in tools:
            if not isinstance(tool, dict) or not tool.get("name"):
                raise ConfigError([f"{source}: {server}: every tool needs a `name`; {FORMATS}"])
            if SERVER_KEYS & set(tool):
                raise ConfigError([f"{source}: {server}: a server entry, not a tool; {FORMATS}"])
            schema = tool.get("inputSchema") or tool.get("input_schema") or {}
            out.append(
                ToolSpec(
                    str(server), str(tool["name"]), str(tool.get("description") or ""), dict(schema)
                )
            )
    return out


def load_catalogue_file(path: str | Path) -> list[ToolSpec]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read catalogue: {exc}"]) from None
    return specs_from_mapping(data, str(path))
