"""Stand-ins for the seed's third-party MCP servers (Xero, YouTube), with fixed data.

python seed_services.py xero      list_invoices(status)
python seed_services.py youtube   get_channel_stats(channel_id)
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer

INVOICES = [
    {
        "number": "INV-101",
        "contact": "Globex",
        "amount_due": 1200.0,
        "status": "AUTHORISED",
        "due": "2026-11-01",
    },
    {
        "number": "INV-102",
        "contact": "Initech",
        "amount_due": 430.5,
        "status": "AUTHORISED",
        "due": "2026-11-10",
    },
    {
        "number": "INV-103",
        "contact": "Umbrella",
        "amount_due": 0.0,
        "status": "PAID",
        "due": "2026-10-01",
    },
]


def xero() -> MCPServer:
    server = MCPServer("xero")

    @server.tool(description="List invoices; status 'unpaid' returns those with money still due")
    def list_invoices(status: str = "unpaid") -> list[dict[str, object]]:
        if status == "unpaid":
            return [i for i in INVOICES if i["amount_due"]]
        return INVOICES

    return server


def youtube() -> MCPServer:
    server = MCPServer("youtube")

    @server.tool(description="Get subscriber count, views and video count of a YouTube channel")
    def get_channel_stats(channel_id: str) -> dict[str, object]:
        return {
            "channel_id": channel_id,
            "subscribers": 15230,
            "views_last_7_days": 48211,
            "videos": 212,
        }

    return server


if __name__ == "__main__":
    {"xero": xero, "youtube": youtube}[sys.argv[1]]().run("stdio")
