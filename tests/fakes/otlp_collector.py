"""A fake OpenTelemetry collector on 127.0.0.1: OTLP/HTTP with protobuf, traces only.

`POST /v1/traces` with `Content-Type: application/x-protobuf` (gzip or not) is parsed as an
`ExportTraceServiceRequest` with opentelemetry-proto's own classes and answered with an empty
`ExportTraceServiceResponse`, as a collector does. Anything else is a 4xx and a `violations`
entry. `spans` holds each span received as (service name, span name, attributes, ids).
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.fakes.serving import serve


@dataclass
class ReceivedSpan:
    service: str
    name: str
    attributes: dict[str, Any]
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


@dataclass
class FakeCollector:
    spans: list[ReceivedSpan] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/v1/traces":
                    return self._refuse(404, f"POST {self.path}")
                if self.headers.get("Content-Type") != "application/x-protobuf":
                    return self._refuse(415, f"content type {self.headers.get('Content-Type')}")
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                try:
                    request.ParseFromString(body)
                except Exception:  # noqa: BLE001 - a malformed body is the client's fault
                    return self._refuse(400, "body is not an ExportTraceServiceRequest")
                fake.receive(request)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def _refuse(self, status: int, what: str) -> None:
                fake.violations.append(what)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=serve, args=(self._server,), daemon=True)

    def receive(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            str(resource.get("service.name", "")),
                            span.name,
                            {a.key: _value(a.value) for a in span.attributes},
                            span.trace_id,
                            span.span_id,
                            span.parent_span_id,
                        )
                    )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeCollector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
