"""A fake ClickUp REST API v2 on 127.0.0.1: lists, tasks, and the request log."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeClickUp:
    def __init__(self, token: str = "pk_test_token") -> None:
        self.token = token
        self.tasks: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length", 0))
                return json.loads(self.rfile.read(length)) if length else {}

            def _send(self, status: int, doc: dict[str, Any]) -> None:
                raw = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _route(self, method: str) -> None:
                body = self._body()
                fake.requests.append((method, self.path, body))
                if self.headers.get("Authorization") != fake.token:
                    return self._send(401, {"err": "Token invalid", "ECODE": "OAUTH_025"})
                parts = self.path.strip("/").split("/")
                if method == "POST" and len(parts) == 5 and parts[-1] == "task":
                    tid = f"t{next(ids)}"
                    fake.tasks[tid] = {
                        "id": tid,
                        "name": body.get("name"),
                        "list": parts[-2],
                        "status": {"status": "to do"},
                        "url": f"https://app.clickup.com/t/{tid}",
                    }
                    return self._send(200, fake.tasks[tid])
                if method == "GET" and parts[-1] == "task":
                    return self._send(
                        200, {"tasks": [t for t in fake.tasks.values() if t["list"] == parts[-2]]}
                    )
                if method == "PUT" and parts[-2] == "task" and parts[-1] in fake.tasks:
                    fake.tasks[parts[-1]]["status"] = {"status": body.get("status")}
                    return self._send(200, fake.tasks[parts[-1]])
                return self._send(404, {"err": "Not found"})

            def do_GET(self) -> None:  # noqa: N802
                self._route("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._route("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._route("PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/v2"

    def __enter__(self) -> FakeClickUp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
