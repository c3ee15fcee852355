"""Catalogue files: `{server: [MCP tool objects]}`, the shape `tools/list` returns per server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.errors import ConfigError
from orchestrator.mcp.tools import ToolSpec


def specs_from_mapping(data: dict[str, Any], source: str = "<catalogue>") -> list[ToolSpec]:
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: expected an object mapping server names to tool lists"])
    out = []
    for server, tools in data.items():
        if not isinstance(tools, list):
            raise ConfigError([f"{source}: {server}: expected a list of tools"])
        for tool in tools:
            if not isinstance(tool, dict) or not tool.get("name"):
                raise ConfigError([f"{source}: {server}: every tool needs a `name`"])
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
