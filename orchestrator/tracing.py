"""Optional OpenTelemetry traces (the `tracing` extra), off by default.

`span(name, **attrs)` wraps one step of a request: `message` (core.handle), `route` (the
router), `model_call` (each LLM call), `tool_call` (each MCP call). Spans nest as the request
runs (OpenTelemetry's context rides on contextvars, so tasks a request starts inherit it).

Until `configure` turns tracing on, `span` returns one shared do-nothing object and this module
has not imported opentelemetry: the cost is a global read and a call. Attributes are bounded
names and counts only (platform, outcome, model, server, tool, token and tool counts): a key
outside `ATTRIBUTES` is dropped, so no message text, user id or secret reaches a span.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

from orchestrator.config import TracingSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

log = logging.getLogger(__name__)

# Every attribute a span may carry, as `orchestrator.<key>` on the span.
ATTRIBUTES = frozenset(
    {
        "platform",
        "outcome",
        "replies",
        "strategy",
        "tools",
        "model",
        "tokens",
        "prompt_tokens",
        "completion_tokens",
        "server",
        "tool",
    }
)
Value = str | int | float | bool


class _NoSpan:
    """What `span` returns while tracing is off."""

    __slots__ = ()

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set(self, **attrs: Value) -> None:
        return None


_NO_SPAN = _NoSpan()


def _attributes(attrs: dict[str, Any]) -> dict[str, Value]:
    kept: dict[str, Value] = {}
    for key, value in attrs.items():
        if key not in ATTRIBUTES:
            log.warning("trace_attribute_dropped key=%s", key)
        elif isinstance(value, str | int | float | bool):
            kept[f"orchestrator.{key}"] = value
    return kept


class _Span:
    """One live span, current for the block it wraps; an exception marks it as an error, by
    the exception's type."""

    __slots__ = ("_tracer", "_name", "_attrs", "_scope", "_span")

    def __init__(self, tracer: Tracer, name: str, attrs: dict[str, Any]) -> None:
        self._tracer, self._name, self._attrs = tracer, name, attrs
        self._scope: Any = None
        self._span: Any = None

    def __enter__(self) -> _Span:
        # An exception's text may hold a user's words or a secret: the span keeps its type only.
        self._scope = self._tracer.start_as_current_span(
            self._name,
            attributes=_attributes(self._attrs),
            record_exception=False,
            set_status_on_exception=False,
        )
        self._span = self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            from opentelemetry.trace import Status, StatusCode

            self._span.set_status(Status(StatusCode.ERROR, exc_type.__name__))
        self._scope.__exit__(exc_type, exc, tb)

    def set(self, **attrs: Value) -> None:
        """Attributes known only at the end (outcome, tokens)."""
        self._span.set_attributes(_attributes(attrs))


_tracer: Tracer | None = None
_provider: TracerProvider | None = None


def span(name: str, **attrs: Value) -> _Span | _NoSpan:
    """`with span("tool_call", server=s, tool=t) as sp: ...; sp.set(outcome="ok")`."""
    tracer = _tracer
    if tracer is None:
        return _NO_SPAN
    return _Span(tracer, name, attrs)


def active() -> bool:
    return _tracer is not None


def configure(settings: TracingSettings, exporter: SpanExporter | None = None) -> bool:
    """Turn tracing on when `settings.enabled` and the packages are installed (True when on).
    Spans go to `exporter` (tests: the SDK's InMemorySpanExporter, exported as each span ends)
    or, batched, to the OTLP/HTTP collector at `settings.endpoint`. Once on, a later call
    keeps the process's tracer (one per process, like the metrics registry)."""
    global _tracer, _provider
    if not settings.enabled or _tracer is not None:
        return _tracer is not None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        log.error(
            "tracing_unavailable reason=packages_missing fix='pip install "
            "chatops-orchestrator[tracing]' (tracing.enabled is true; running without traces)"
        )
        return False
    resource = Resource.create({"service.name": settings.service_name})
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        otlp = _otlp_exporter(settings.endpoint)
        if otlp is None:
            return False
        provider.add_span_processor(BatchSpanProcessor(otlp))
    _provider, _tracer = provider, provider.get_tracer("orchestrator")
    log.info(
        "tracing_on service=%s exporter=%s",
        settings.service_name,
        "otlp_http" if exporter is None else type(exporter).__name__,
    )
    return True


def _otlp_exporter(endpoint: str) -> SpanExporter | None:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        log.error(
            "tracing_unavailable reason=exporter_missing package=opentelemetry-exporter-otlp-"
            "proto-http fix='pip install chatops-orchestrator[tracing]' (running without traces)"
        )
        return None
    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")


def flush() -> None:
    """Send the spans still batched (at stop)."""
    if _provider is not None:
        _provider.force_flush()


def reset() -> None:
    """Turn tracing off again, sending what is batched (tests; a process's last stop)."""
    global _tracer, _provider
    provider = _provider
    _tracer = _provider = None
    if provider is not None:
        provider.shutdown()
