"""`orchestrator tools [--config FILE] [--json]`: connect every server and print the catalogue."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TYPE_CHECKING

from orchestrator.cli.common import SubParsers, load_or_report

if TYPE_CHECKING:
    from orchestrator.mcp.hub import McpHub


def add_tools_parser(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("tools", help="connect the servers and list their tools")
    parser.add_argument("--config", "-c", help="config file")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=cmd_tools)


def cmd_tools(ns: argparse.Namespace) -> int:
    from orchestrator.mcp.hub import McpHub  # not loaded by the other commands

    config = load_or_report(ns.config)
    if config is None:
        return 2
    doc = asyncio.run(_collect(McpHub.from_config(config)))
    if ns.json:
        print(json.dumps(doc, indent=2))
        return 0
    for server in doc["servers"]:
        error = f" ({server['last_error']})" if server["last_error"] else ""
        print(f"{server['name']}: {server['state']}, {server['tool_count']} tools{error}")
        for tool in server["tools"]:
            first = (tool["description"] or "").strip().split("\n")[0][:100]
            print(f"  {tool['name']}: {first}")
    return 0


async def _collect(hub: McpHub) -> dict:
    await hub.start()
    try:
        tools = hub.catalogue()
        return {
            "servers": [
                {
                    "name": s.name,
                    "state": s.state,
                    "tool_count": s.tool_count,
                    "last_error": s.last_error,
                    "restarts": s.restarts,
                    "tools": [
                        {"name": t.name, "description": t.description}
                        for t in tools
                        if t.server == s.name
                    ],
                }
                for s in hub.status()
            ]
        }
    finally:
        await hub.stop()
