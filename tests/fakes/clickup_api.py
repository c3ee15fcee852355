"""A fake ClickUp REST API v2 on 127.0.0.1: hierarchy, lists, tasks, comments, the request log.

Paths, methods and fields as ClickUp's: the token is the bare `Authorization` header;
GET /team, /team/{id}/space, /space/{id}/folder, /space/{id}/list, /folder/{id}/list;
GET|POST /list/{id}/task (GET filters: statuses[], assignees[], due_date_gt, due_date_lt in ms,
include_closed, page); GET|PUT /task/{id}; POST /task/{id}/comment. Errors are ClickUp's
`{"err", "ECODE"}`. `requests` keeps (method, path with query, body) for the older tests;
`calls` keeps every request with its query and headers; `faults` plans 401/404/429 or stalls.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.faults import Faults
from tests.fakes.serving import serve

TEAM = {"id": "9001", "name": "Acme"}
SPACES = [{"id": "901", "name": "Marketing"}, {"id": "902", "name": "Operations"}]
FOLDERS = {"901": [{"id": "801", "name": "Content"}], "902": [{"id": "802", "name": "Finance"}]}
LISTS = {
    ("folder", "801"): [{"id": "7001", "name": "Video Reports"}, {"id": "7002", "name": "Ideas"}],
    ("folder", "802"): [{"id": "7004", "name": "Invoice follow-ups"}],
    ("space", "901"): [],
    ("space", "902"): [{"id": "7003", "name": "Followups"}],
}
USERS = {101: "ann", 102: "bob"}
CLOSED = {"done", "closed", "complete"}


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]


class FakeClickUp:
    def __init__(self, token: str = "pk_test_token") -> None:
        self.token = token
        self.tasks: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.calls: list[Call] = []
        self.faults = Faults()
        ids = itertools.count(1)
        comment_ids = itertools.count(458)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length", 0))
                return json.loads(self.rfile.read(length)) if length else {}

            def _send(
                self, status: int, doc: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                raw = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def _route(self, method: str) -> None:
                body = self._body()
                split = urlsplit(self.path)
                query = parse_qs(split.query)
                fake.requests.append((method, self.path, body))
                fake.calls.append(Call(method, split.path, query, dict(self.headers), body))
                fault = fake.faults.take(split.path)
                if fault is not None and fault.status is None:
                    fake.faults.closing.wait(fault.stall)
                    return self._send(504, {"err": "Gateway timeout"})
                if fault is not None and fault.status == 429:
                    wait = fault.retry_after if fault.retry_after is not None else 1
                    return self._send(
                        429,
                        {"err": "Rate limit reached", "ECODE": "APP_002"},
                        {
                            "Retry-After": f"{wait:g}",
                            "X-RateLimit-Limit": "100",
                            "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": str(int(time.time() + wait)),
                        },
                    )
                if fault is not None:
                    errors = {
                        401: ("Token invalid", "OAUTH_025"),
                        404: ("Task not found, deleted", "ITEM_013"),
                    }
                    err, code = errors.get(fault.status or 500, ("Internal error", "APP_001"))
                    return self._send(fault.status or 500, {"err": err, "ECODE": code})
                if self.headers.get("Authorization") != fake.token:
                    return self._send(401, {"err": "Token invalid", "ECODE": "OAUTH_025"})
                status, doc = fake.answer(method, split.path, query, body)
                return self._send(status, doc)

            def do_GET(self) -> None:  # noqa: N802
                self._route("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._route("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._route("PUT")

        self._ids = ids
        self._comment_ids = comment_ids
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=serve, args=(self._server,), daemon=True)

    # -- control from tests -------------------------------------------------------------------
    def add_task(
        self,
        list_id: str,
        name: str,
        *,
        status: str = "to do",
        assignees: tuple[int, ...] = (),
        due_ms: int | None = None,
        description: str = "",
    ) -> str:
        tid = f"t{next(self._ids)}"
        self.tasks[tid] = {
            "id": tid,
            "name": name,
            "text_content": description,
            "description": description,
            "list": list_id,
            "status": {"status": status, "type": "closed" if status in CLOSED else "custom"},
            "date_created": str(int(time.time() * 1000)),
            "due_date": str(due_ms) if due_ms is not None else None,
            "assignees": [{"id": a, "username": USERS.get(a, f"user{a}")} for a in assignees],
            "priority": None,
            "url": f"https://app.clickup.com/t/{tid}",
        }
        return tid

    def reset(self) -> None:
        """Forget tasks, comments, requests and planned faults (a fake shared by tests)."""
        for store in (self.tasks, self.comments, self.requests, self.calls, self.faults.queue):
            store.clear()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/v2"

    def __enter__(self) -> FakeClickUp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.faults.closing.set()
        self._server.shutdown()
        self._server.server_close()

    # -- the API ------------------------------------------------------------------------------
    def _public(self, task: dict[str, Any]) -> dict[str, Any]:
        lists = {item["id"]: item["name"] for group in LISTS.values() for item in group}
        return {**task, "list": {"id": task["list"], "name": lists.get(task["list"], "")}}

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        parts = path.removeprefix("/api/v2/").strip("/").split("/")
        match method, parts:
            case "GET", ["team"]:
                return 200, {"teams": [TEAM]}
            case "GET", ["team", team, "space"] if team == TEAM["id"]:
                return 200, {"spaces": SPACES}
            case "GET", ["space", space, "folder"] if space in FOLDERS:
                return 200, {"folders": FOLDERS[space]}
            case "GET", [("space" | "folder") as kind, key, "list"] if (kind, key) in LISTS:
                return 200, {"lists": LISTS[(kind, key)]}
            case "POST", ["list", list_id, "task"]:
                if not body.get("name"):
                    return 400, {"err": "Task name invalid", "ECODE": "INPUT_005"}
                # ClickUp keeps a Markdown body as the task's description and plain text.
                body_text = body.get("markdown_description") or body.get("description") or ""
                tid = self.add_task(list_id, body["name"], description=body_text)
                priority = body.get("priority")
                if priority:
                    names = {1: "urgent", 2: "high", 3: "normal", 4: "low"}
                    self.tasks[tid]["priority"] = {"id": str(priority), "priority": names[priority]}
                return 200, self._public(self.tasks[tid])
            case "GET", ["list", list_id, "task"]:
                return 200, {"tasks": self._filter(list_id, query), "last_page": True}
            case "GET", ["task", tid] if tid in self.tasks:
                return 200, self._public(self.tasks[tid])
            case "PUT", ["task", tid] if tid in self.tasks:
                if "status" in body:
                    status = body["status"]
                    kind = "closed" if status in CLOSED else "custom"
                    self.tasks[tid]["status"] = {"status": status, "type": kind}
                return 200, self._public(self.tasks[tid])
            case "POST", ["task", tid, "comment"] if tid in self.tasks:
                if not body.get("comment_text"):
                    return 400, {"err": "Comment text invalid", "ECODE": "COMM_002"}
                comment = {
                    "id": next(self._comment_ids),
                    "hist_id": f"hist-{tid}",
                    "date": int(time.time() * 1000),
                }
                self.comments.setdefault(tid, []).append({**comment, **body})
                return 200, comment
            case _, ["task", *_]:
                return 404, {"err": "Task not found, deleted", "ECODE": "ITEM_013"}
        return 404, {"err": "Route not found", "ECODE": "APP_001"}

    def _filter(self, list_id: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        statuses = {s.lower() for s in query.get("statuses[]", [])}
        assignees = {int(a) for a in query.get("assignees[]", [])}
        gt = int(query["due_date_gt"][0]) if "due_date_gt" in query else None
        lt = int(query["due_date_lt"][0]) if "due_date_lt" in query else None
        include_closed = query.get("include_closed", ["false"])[0] == "true"
        found = []
        for task in self.tasks.values():
            due = int(task["due_date"]) if task["due_date"] else None
            if task["list"] != list_id:
                continue
            if task["status"]["type"] == "closed" and not include_closed:
                continue
            if statuses and task["status"]["status"].lower() not in statuses:
                continue
            if assignees and not assignees & {a["id"] for a in task["assignees"]}:
                continue
            if gt is not None and (due is None or due <= gt):
                continue
            if lt is not None and (due is None or due >= lt):
                continue
            found.append(self._public(task))
        return found
