"""Record the real @xeroapi/xero-mcp-server's tools/list into tests/fixtures/xero_tools_list.json.

Why: the Xero stand-in used by tests must serve exactly the names and input schemas the real
server serves. Listing tools needs no Xero account, so dummy credentials are enough.

    .venv/bin/python scripts/record_xero_tools.py [version]
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

PACKAGE = "@xeroapi/xero-mcp-server"
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "xero_tools_list.json"


async def record(version: str) -> dict[str, object]:
    env = {**os.environ, "XERO_CLIENT_ID": "dummy", "XERO_CLIENT_SECRET": "dummy"}
    params = StdioServerParameters(command="npx", args=["-y", f"{PACKAGE}@{version}"], env=env)
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        listed = await session.list_tools()
    return {
        "provenance": {
            "package": PACKAGE,
            "version": version,
            "server_info": init.server_info.model_dump(mode="json", exclude_none=True),
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": f"XERO_CLIENT_ID=dummy XERO_CLIENT_SECRET=dummy npx -y {PACKAGE}@{version}",
            "how": "scripts/record_xero_tools.py (mcp python client, stdio, tools/list)",
        },
        "tools": [
            t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools
        ],
    }


def main() -> None:
    version = (
        sys.argv[1]
        if len(sys.argv) > 1
        else subprocess.run(
            ["npm", "view", PACKAGE, "version"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    doc = asyncio.run(record(version))
    OUT.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(doc['tools'])} tools of {PACKAGE}@{version} -> {OUT}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
