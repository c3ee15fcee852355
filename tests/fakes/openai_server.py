"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 speaking `/v1/chat/completions`.

Each request pops the next scripted step: a text answer, tool calls, or an HTTP error. A step may
also be a function of the request body, so a script can answer with what a tool returned.
Every request body is recorded for assertions. A request with `stream: true` is answered as
server-sent events the way OpenAI streams (tool calls split over several deltas). Wire variants:
`finish_reason`, a legacy `function_call`, `delay` (silence before answering), `chunk_delay`
and `broken_stream` (the stream ends before any output, as when a server cannot stream tools),
`plain_json` (a streamed request answered with one `chat.completion` JSON body, as some servers do).

Strict: a request past the end of the script (and no `default`), or a scripted tool call naming a
tool the request did not offer (its `tools`, where tools loaded through the meta-tool reappear in
full), is a violation: the request is answered with HTTP 418 so the client cannot pass silently,
and leaving the `with` block raises AssertionError listing every violation. A step that calls an
unoffered tool on purpose (to test the refusal) is marked `tool_call(..., offered=False)`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.serving import serve

log = logging.getLogger(__name__)

Step = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


def text(content: str) -> dict[str, Any]:
    return {"content": content}


def tool_call(
    name: str, arguments: dict[str, Any], call_id: str | None = None, *, offered: bool = True
) -> dict[str, Any]:
    """`offered=False`: the call names a tool the request did not offer, on purpose."""
    step: dict[str, Any] = {"tool_calls": [{"name": name, "arguments": arguments, "id": call_id}]}
    if not offered:
        step["unoffered"] = True
    return step


def legacy_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The pre-tools `function_call` field some older servers still send."""
    return {"function_call": {"name": name, "arguments": arguments}}


def offered_names(body: dict[str, Any]) -> set[str]:
    """The tool names a request offers (`tools`, or the legacy `functions`)."""
    tools = [t.get("function", {}) for t in body.get("tools") or []]
    return {str(f.get("name")) for f in [*tools, *(body.get("functions") or [])]}


def called_names(step: dict[str, Any]) -> list[str]:
    calls = [c["name"] for c in step.get("tool_calls") or []]
    return calls + ([step["function_call"]["name"]] if step.get("function_call") else [])


def error(status: int, message: str = "error", retry_after: int | None = None) -> dict[str, Any]:
    return {"error_status": status, "message": message, "retry_after": retry_after}


def completion(step: dict[str, Any], model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": step.get("content")}
    finish = "stop"
    if step.get("tool_calls"):
        finish = "tool_calls"
        message["tool_calls"] = wire_calls(step)
    if step.get("function_call"):
        finish = "function_call"
        fc = step["function_call"]
        message["function_call"] = {"name": fc["name"], "arguments": json.dumps(fc["arguments"])}
    finish = step.get("finish_reason", finish)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def wire_calls(step: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.get("id") or f"call_{uuid.uuid4().hex[:8]}",
            "type": "function",
            "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
        }
        for c in step["tool_calls"]
    ]


def stream_chunks(step: dict[str, Any], model: str) -> list[dict[str, Any]]:
    """The completion as OpenAI streams it: role, content pieces, tool-call deltas, finish."""
    done = completion(step, model)
    message, finish = done["choices"][0]["message"], done["choices"][0]["finish_reason"]
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    content = message.get("content") or ""
    deltas += [{"content": content[i : i + 5]} for i in range(0, len(content), 5)]
    for index, call in enumerate(message.get("tool_calls", [])):
        args = call["function"]["arguments"]
        half = len(args) // 2
        deltas.append(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": args[:half]},
                    }
                ]
            }
        )
        deltas.append({"tool_calls": [{"index": index, "function": {"arguments": args[half:]}}]})
    if message.get("function_call"):
        fc = message["function_call"]
        deltas.append({"function_call": {"name": fc["name"], "arguments": fc["arguments"]}})
    base = {"id": done["id"], "object": "chat.completion.chunk", "created": 0, "model": model}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return chunks


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many clients connect at once in the concurrency tests


@dataclass
class FakeOpenAI:
    """Start with `with FakeOpenAI([...]) as llm:`; point clients at `llm.base_url`."""

    script: list[Step] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    default: Step | None = None
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                fake.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization", "")}
                )
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found"}})
                step = fake.next_step(body)
                if body.get("stream") and step.get("plain_json"):
                    return self._send(200, completion(step, body.get("model", "fake")))
                if "error_status" in step:
                    headers = (
                        {"retry-after": str(step["retry_after"])}
                        if step.get("retry_after") is not None
                        else {}
                    )
                    return self._send(
                        step["error_status"],
                        {"error": {"message": step["message"], "type": "error", "code": None}},
                        headers,
                    )
                time.sleep(float(step.get("delay", 0)))
                model = body.get("model", "fake")
                if body.get("stream") and step.get("broken_stream"):
                    return self._stream([], 0, done=False)  # the server failed mid-stream
                if body.get("stream"):
                    chunks = stream_chunks(step, model)
                    if (body.get("stream_options") or {}).get("include_usage"):
                        # As OpenAI does: one last chunk with no choices and the usage.
                        last = completion(step, model)
                        chunks.append({**chunks[-1], "choices": [], "usage": last["usage"]})
                    return self._stream(chunks, float(step.get("chunk_delay", 0)))
                self._send(200, completion(step, model))

            def _stream(
                self, chunks: list[dict[str, Any]], pause: float, done: bool = True
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    for chunk in chunks:
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        time.sleep(pause)
                    if done:
                        self.wfile.write(b"data: [DONE]\n\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up

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

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=serve, args=(self._server,), daemon=True)
        self._lock = threading.Lock()

    def next_step(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            step = self.script.pop(0) if self.script else self.default
            asked = len(self.requests)
        if step is None:
            return self._violation(f"request {asked}: asked past the end of the script")
        step = step(body) if callable(step) else step
        unoffered = [n for n in called_names(step) if n not in offered_names(body)]
        if unoffered and not step.get("unoffered"):
            offered = ", ".join(sorted(offered_names(body))) or "none"
            return self._violation(
                f"request {asked}: the script calls {', '.join(unoffered)}, which the request "
                f"did not offer (offered: {offered})"
            )
        return step

    def _violation(self, what: str) -> dict[str, Any]:
        log.warning("fake_llm_violation %s", what)
        with self._lock:
            self.violations.append(what)
        return error(418, f"fake LLM: {what}")

    def assert_clean(self) -> None:
        """Raise AssertionError naming every violation of the script (see the module doc)."""
        if self.violations:
            raise AssertionError("fake model script violated:\n" + "\n".join(self.violations))

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        if exc is None:
            self.assert_clean()
        elif self.violations:  # the test failed already: say the script was broken too
            exc.add_note("fake model script violated:\n" + "\n".join(self.violations))


def last_tool_result(body: dict[str, Any]) -> str:
    """The content of the most recent `tool` message the client sent."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "tool":
            return str(message.get("content", ""))
    return ""
