"""`orchestrator tools [--config FILE] [--server NAME] [--json]`: connect the servers and print
the catalogue; exit 1 when a server is down (its error printed once, on its own line)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import TYPE_CHECKING

from orchestrator.cli.common import SubParsers, load_or_report

if TYPE_CHECKING:
    from orchestrator.mcp.hub import McpHub


def add_tools_parser(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("tools", help="connect the servers and list their tools")
    parser.add_argument("--config", "-c", help="config file")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--server", "-s", help="start only this server (see its error)")
    parser.set_defaults(func=cmd_tools)


def cmd_tools(ns: argparse.Namespace) -> int:
    from orchestrator.app import build_hub  # not loaded by the other commands

    config = load_or_report(ns.config)
    if config is None:
        return 2
    if ns.server:
        if ns.server not in config.mcp_servers:
            known = ", ".join(sorted(config.mcp_servers)) or "none"
            print(f"no server {ns.server!r} in the config (servers: {known})", file=sys.stderr)
            return 2
        only = {ns.server: config.mcp_servers[ns.server]}
        config = config.model_copy(update={"mcp_servers": only})
    # The hub logs each failed start; here the error is printed once, with its server.
    hub_log = logging.getLogger("orchestrator.mcp")
    level = hub_log.level
    hub_log.setLevel(logging.CRITICAL)
    try:
        doc = asyncio.run(_collect(build_hub(config)))
    finally:
        hub_log.setLevel(level)
    down = [s for s in doc["servers"] if s["state"] not in ("up", "disabled")]
    if ns.json:
        print(json.dumps(doc, indent=2))
        return 1 if down else 0
    for server in doc["servers"]:
        print(f"{server['name']}: {server['state']}, {server['tool_count']} tools")
        if server["last_error"]:
            print(f"  error: {server['last_error']}")
        for tool in server["tools"]:
            first = (tool["description"] or "").strip().split("\n")[0][:100]
            print(f"  {tool['name']}: {first}")
    return 1 if down else 0


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
                        {
                            "name": t.name,
                            "description": t.description,
                            "inputSchema": t.input_schema,
                        }
                        for t in tools
                        if t.server == s.name
                    ],
                }
                for s in hub.status()
            ]
        }
    finally:
        await hub.stop()
