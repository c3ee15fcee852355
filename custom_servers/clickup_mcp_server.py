"""ClickUp as an MCP server: a thin proxy over ClickUp's REST API v2 (the seed's custom server).

Run: `python3 custom_servers/clickup_mcp_server.py` with CLICKUP_API_TOKEN set;
CLICKUP_API_URL points it elsewhere (a fake in tests, a proxy in production).
The token never appears in a tool result or an error.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

DEFAULT_URL = "https://api.clickup.com/api/v2"
STATUS_HINTS = {
    401: "the ClickUp token was rejected",
    404: "not found in ClickUp",
    429: "ClickUp rate limit reached; try again in a minute",
}


def _client() -> httpx.AsyncClient:
    token = os.environ.get("CLICKUP_API_TOKEN", "")
    if not token:
        raise ToolError("CLICKUP_API_TOKEN is not set for the clickup server")
    return httpx.AsyncClient(
        base_url=os.environ.get("CLICKUP_API_URL", DEFAULT_URL),
        headers={"Authorization": token},
        timeout=20,
    )


async def _request(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    async with _client() as client:
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ToolError(f"ClickUp could not be reached ({type(exc).__name__})") from None
    if response.status_code >= 400:
        hint = STATUS_HINTS.get(response.status_code, "ClickUp refused the request")
        raise ToolError(f"{hint} (HTTP {response.status_code})")
    return dict(response.json())


def create_server() -> MCPServer:
    server = MCPServer("clickup", version="1.0.0")

    @server.tool(description="Create a new task in a ClickUp list")
    async def create_task(
        list_id: Annotated[str, Field(description="ClickUp list id")],
        name: Annotated[str, Field(description="Task title")],
        description: Annotated[str, Field(description="Task description (Markdown)")] = "",
        priority: Annotated[int, Field(ge=1, le=4, description="1 urgent .. 4 low")] = 3,
    ) -> dict[str, Any]:
        task = await _request(
            "POST",
            f"/list/{list_id}/task",
            json={"name": name, "markdown_description": description, "priority": priority},
        )
        return {"id": task.get("id"), "name": task.get("name"), "url": task.get("url")}

    @server.tool(description="Update the status of a ClickUp task")
    async def update_task_status(
        task_id: Annotated[str, Field(description="ClickUp task id")],
        status: Annotated[str, Field(description="New status, e.g. 'in progress' or 'done'")],
    ) -> dict[str, Any]:
        task = await _request("PUT", f"/task/{task_id}", json={"status": status})
        return {"id": task.get("id"), "status": (task.get("status") or {}).get("status", status)}

    @server.tool(description="List the open tasks of a ClickUp list")
    async def list_tasks(
        list_id: Annotated[str, Field(description="ClickUp list id")],
    ) -> dict[str, Any]:
        data = await _request("GET", f"/list/{list_id}/task")
        return {
            "tasks": [
                {
                    "id": t.get("id"),
                    "name": t.get("name"),
                    "status": (t.get("status") or {}).get("status"),
                }
                for t in data.get("tasks", [])
            ]
        }

    return server


def main() -> None:
    create_server().run("stdio")


if __name__ == "__main__":
    main()
