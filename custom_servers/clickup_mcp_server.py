"""ClickUp as an MCP server: a thin proxy over ClickUp's REST API v2 (the seed's custom server).

Run: `python3 custom_servers/clickup_mcp_server.py` or `python -m custom_servers.clickup_mcp_server`
with CLICKUP_API_TOKEN set; CLICKUP_API_URL points it elsewhere (a fake in tests, a proxy in
production); CLICKUP_TIMEOUT_SECONDS bounds each call. Every input is validated before any call.
The token never appears in a tool result, an error or a log line.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

if __package__ in (None, ""):  # run as a script: python3 custom_servers/clickup_mcp_server.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from custom_servers._http import Service, env_float, request
from custom_servers._serve import serve

DEFAULT_URL = "https://api.clickup.com/api/v2"
TOKEN_ENV = "CLICKUP_API_TOKEN"
ID = r"^[A-Za-z0-9_-]{1,64}$"
READ = ToolAnnotations(read_only_hint=True, open_world_hint=True)

ListId = Annotated[str, Field(pattern=ID, description="ClickUp list id (find_list finds it)")]
TaskId = Annotated[str, Field(pattern=ID, description="ClickUp task id")]


def _service() -> Service:
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise ToolError(f"{TOKEN_ENV} is not set for the clickup server")
    return Service(
        name="ClickUp",
        base_url=os.environ.get("CLICKUP_API_URL", DEFAULT_URL).rstrip("/") + "/",
        credential_env=TOKEN_ENV,
        headers={"Authorization": token},
        secrets=(token,),
        timeout=env_float(os.environ, "CLICKUP_TIMEOUT_SECONDS", 20.0),
    )


async def _request(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    return dict(await request(_service(), method, path.lstrip("/"), **kwargs))


def _ms(moment: datetime) -> int:
    """Milliseconds since the epoch, as ClickUp wants dates; a naive time is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _date(ms: Any) -> str | None:
    if ms in (None, ""):
        return None
    return datetime.fromtimestamp(int(ms) / 1000, UTC).isoformat().replace("+00:00", "Z")


def _task(t: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": t.get("id"),
        "name": t.get("name"),
        "status": (t.get("status") or {}).get("status"),
        "assignees": [a.get("username") or a.get("id") for a in t.get("assignees") or []],
        "due": _date(t.get("due_date")),
        "priority": (t.get("priority") or {}).get("priority"),
        "url": t.get("url"),
    }


async def _lists_of_space(space: dict[str, Any], team: dict[str, Any]) -> list[dict[str, Any]]:
    """Every list of a space: those in its folders and the folderless ones."""
    folders = (await _request("GET", f"space/{space['id']}/folder", params={"archived": "false"}))[
        "folders"
    ]
    answers = await asyncio.gather(
        _request("GET", f"space/{space['id']}/list", params={"archived": "false"}),
        *(_request("GET", f"folder/{f['id']}/list", params={"archived": "false"}) for f in folders),
    )
    found = []
    for folder, answer in zip([None, *folders], answers, strict=True):
        for item in answer.get("lists", []):
            found.append(
                {
                    "id": item.get("id"),
                    "name": item.get("name"),
                    "folder": folder.get("name") if folder else None,
                    "space": space.get("name"),
                    "team": team.get("name"),
                }
            )
    return found


def create_server() -> MCPServer:
    """ClickUp REST API v2 tools: find lists, read, list, create and update tasks, comment."""
    server = MCPServer("clickup", version="1.1.0")

    @server.tool(
        description="Create a new task in a ClickUp list",
        annotations=ToolAnnotations(
            title="Create ClickUp task",
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=True,
        ),
    )
    async def create_task(
        list_id: ListId,
        name: Annotated[str, Field(min_length=1, max_length=500, description="Task title")],
        description: Annotated[
            str, Field(max_length=50_000, description="Task description (Markdown)")
        ] = "",
        priority: Annotated[int, Field(ge=1, le=4, description="1 urgent .. 4 low")] = 3,
    ) -> dict[str, Any]:
        task = await _request(
            "POST",
            f"/list/{list_id}/task",
            json={"name": name, "markdown_description": description, "priority": priority},
        )
        return {"id": task.get("id"), "name": task.get("name"), "url": task.get("url")}

    @server.tool(
        description="Update the status of a ClickUp task (replaces its current status)",
        annotations=ToolAnnotations(
            title="Update ClickUp task status",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=True,
            open_world_hint=True,
        ),
    )
    async def update_task_status(
        task_id: TaskId,
        status: Annotated[
            str,
            Field(min_length=1, max_length=100, description="New status, e.g. 'in progress'"),
        ],
    ) -> dict[str, Any]:
        task = await _request("PUT", f"/task/{task_id}", json={"status": status})
        return {"id": task.get("id"), "status": (task.get("status") or {}).get("status", status)}

    @server.tool(
        description="List the tasks of a ClickUp list (open ones unless include_closed), "
        "optionally only some statuses, assignees, or due dates",
        annotations=READ,
    )
    async def list_tasks(
        list_id: ListId,
        statuses: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=20, description="Only these statuses, e.g. ['to do']"),
        ] = None,
        assignees: Annotated[
            list[Annotated[int, Field(gt=0)]] | None,
            Field(max_length=20, description="Only tasks assigned to these ClickUp user ids"),
        ] = None,
        due_after: Annotated[
            datetime | None, Field(description="Only tasks due after this date/time (ISO 8601)")
        ] = None,
        due_before: Annotated[
            datetime | None, Field(description="Only tasks due before this date/time (ISO 8601)")
        ] = None,
        include_closed: bool = False,
        page: Annotated[int, Field(ge=0, le=1000, description="Page (100 tasks each)")] = 0,
    ) -> dict[str, Any]:
        if due_after and due_before and _ms(due_after) >= _ms(due_before):
            raise ToolError("due_after must be earlier than due_before")
        query: list[tuple[str, Any]] = [("page", page)]
        if include_closed:
            query.append(("include_closed", "true"))
        query += [("statuses[]", s) for s in statuses or []]
        query += [("assignees[]", a) for a in assignees or []]
        if due_after:
            query.append(("due_date_gt", _ms(due_after)))
        if due_before:
            query.append(("due_date_lt", _ms(due_before)))
        data = await _request("GET", f"/list/{list_id}/task", params=query)
        tasks = data.get("tasks", [])
        return {"tasks": [_task(t) for t in tasks], "last_page": bool(data.get("last_page", True))}

    @server.tool(
        description="Read one ClickUp task: status, description, assignees, due date",
        annotations=READ,
    )
    async def get_task(task_id: TaskId) -> dict[str, Any]:
        t = await _request("GET", f"/task/{task_id}")
        return {
            **_task(t),
            "description": t.get("text_content") or t.get("description") or "",
            "list": (t.get("list") or {}).get("name"),
            "created": _date(t.get("date_created")),
        }

    @server.tool(
        description="Add a comment to a ClickUp task",
        annotations=ToolAnnotations(
            title="Comment on ClickUp task",
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=True,
        ),
    )
    async def add_comment(
        task_id: TaskId,
        text: Annotated[str, Field(min_length=1, max_length=20_000, description="Comment text")],
        notify_all: Annotated[
            bool, Field(description="Notify everyone on the task, not just assignees")
        ] = False,
    ) -> dict[str, Any]:
        answer = await _request(
            "POST",
            f"/task/{task_id}/comment",
            json={"comment_text": text, "notify_all": notify_all},
        )
        return {"id": str(answer.get("id")), "task_id": task_id, "date": _date(answer.get("date"))}

    @server.tool(
        description="Find ClickUp lists by name across every workspace, space and folder; "
        "exact (case-insensitive) matches first, else lists whose name contains it",
        annotations=READ,
    )
    async def find_list(
        name: Annotated[str, Field(min_length=1, max_length=200, description="List name")],
    ) -> dict[str, Any]:
        teams = (await _request("GET", "/team")).get("teams", [])
        found: list[dict[str, Any]] = []
        for team in teams:
            spaces = (
                await _request("GET", f"/team/{team['id']}/space", params={"archived": "false"})
            ).get("spaces", [])
            for lists in await asyncio.gather(*(_lists_of_space(s, team) for s in spaces)):
                found.extend(lists)
        wanted = name.strip().lower()
        exact = [item for item in found if str(item["name"]).lower() == wanted]
        near = [item for item in found if wanted in str(item["name"]).lower()]
        return {"lists": exact or near, "searched": len(found)}

    return server


def main() -> None:
    serve(create_server, [TOKEN_ENV])


if __name__ == "__main__":
    main()
