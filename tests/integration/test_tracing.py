"""OpenTelemetry traces (issue 33): a message that calls a real MCP tool through the real core,
with the strict fake model, leaves `message` > `route`, `model_call`, `tool_call` spans in the
SDK's InMemorySpanExporter, with bounded attributes only; with tracing off, nothing imports
opentelemetry."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from orchestrator import tracing
from orchestrator.app import build_orchestrator
from orchestrator.config import TracingSettings, parse_config
from orchestrator.messages import ChatMessage
from orchestrator.reload import needs_restart
from tests.conftest import REPO, time_server_yaml
from tests.fakes.openai_server import FakeOpenAI, text, tool_call
from tests.fakes.otlp_collector import FakeCollector

SECRET = "sk-trace-secret-4711"
WORDS = "tangerine-owl"  # in the message text: must never reach a span


def config_yaml(
    llm_url: str, tmp_path: object, tracing_on: bool, endpoint: str = "http://127.0.0.1:9"
) -> str:
    return (
        "orchestrator:\n"
        f"  llm_settings: {{base_url: '{llm_url}', api_key: {SECRET}, "
        "model: test-model, max_retries: 0}\n"
        "  memory_system: {type: none}\n"
        "scheduler: {enabled: false}\n"
        f"audit: {{path: '{tmp_path}/audit.jsonl'}}\n"
        f"tracing: {{enabled: {str(tracing_on).lower()}, endpoint: '{endpoint}'}}\n"
        f"mcp_servers:\n{time_server_yaml()}"
    )


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure(TracingSettings(enabled=True, service_name="test-bot"), exporter)
    try:
        yield exporter
    finally:
        tracing.reset()


async def test_a_message_that_calls_a_tool_leaves_nested_spans(tmp_path, spans) -> None:
    script = [
        tool_call("time__get_current_time", {"timezone": "UTC"}),
        text("It is noon in UTC."),
    ]
    with FakeOpenAI(script) as llm:
        config = parse_config(config_yaml(llm.base_url, tmp_path, True), env={})
        orchestrator = build_orchestrator(config)
        await orchestrator.start()
        try:
            message = ChatMessage("telegram", "-1009", "4242", f"What time is it in UTC? {WORDS}")
            replies = await orchestrator.handle(message)
        finally:
            await orchestrator.stop()
        llm.assert_clean()
    assert any("noon" in r.text for r in replies)
    finished = spans.get_finished_spans()
    by_name = {}
    for s in finished:
        by_name.setdefault(s.name, []).append(s)
    assert sorted(by_name) == ["message", "model_call", "route", "tool_call"]
    (root,) = by_name["message"]
    assert root.parent is None
    assert root.resource.attributes["service.name"] == "test-bot"
    assert dict(root.attributes or {}) == {
        "orchestrator.platform": "telegram",
        "orchestrator.outcome": "ok",
        "orchestrator.replies": len(replies),
    }
    assert len(by_name["model_call"]) == 2 and len(by_name["tool_call"]) == 1
    for child in [*by_name["route"], *by_name["model_call"], *by_name["tool_call"]]:
        assert child.parent is not None and child.parent.span_id == root.context.span_id
        assert child.context.trace_id == root.context.trace_id
    (route,) = by_name["route"]
    assert route.attributes["orchestrator.tools"] >= 1
    first, second = by_name["model_call"]
    assert first.attributes["orchestrator.model"] == "test-model"
    assert first.attributes["orchestrator.tokens"] > 0
    assert second.attributes["orchestrator.tokens"] > 0
    (call,) = by_name["tool_call"]
    assert dict(call.attributes or {}) == {
        "orchestrator.server": "time",
        "orchestrator.tool": "get_current_time",
        "orchestrator.outcome": "ok",
    }
    # The model call that asked for the tool ended before the tool ran; the answer after it.
    assert first.end_time <= call.start_time <= call.end_time <= second.start_time
    # Bounded names and counts only: no text, no chat or user id, no secret, no arguments.
    values = " ".join(str(v) for s in finished for v in (s.attributes or {}).values())
    for leaked in (WORDS, "What time", "4242", "-1009", SECRET, "UTC"):
        assert leaked not in values


async def test_the_config_section_sends_spans_to_an_otlp_collector(tmp_path) -> None:
    """`tracing.enabled` alone: the core's start turns tracing on with the OTLP/HTTP exporter,
    its stop sends what is batched; the collector parses the protobuf with OTel's own classes."""
    script = [tool_call("time__get_current_time", {"timezone": "UTC"}), text("Noon.")]
    with FakeCollector() as collector, FakeOpenAI(script) as llm:
        yaml = config_yaml(llm.base_url, tmp_path, True, endpoint=collector.endpoint + "/")
        orchestrator = build_orchestrator(parse_config(yaml, env={}))
        try:
            await orchestrator.start()
            assert tracing.active()
            try:
                message = ChatMessage("discord", "5505", "u-6061", f"Time? {WORDS}")
                await orchestrator.handle(message)
            finally:
                await orchestrator.stop()
        finally:
            tracing.reset()
    assert collector.violations == []
    names = sorted(s.name for s in collector.spans)
    assert names == ["message", "model_call", "model_call", "route", "tool_call"]
    (root,) = [s for s in collector.spans if s.name == "message"]
    assert root.service == "chatops-orchestrator" and root.parent_span_id == b""
    assert root.attributes["orchestrator.platform"] == "discord"
    assert all(
        s.parent_span_id == root.span_id and s.trace_id == root.trace_id
        for s in collector.spans
        if s is not root
    )
    values = " ".join(str(v) for s in collector.spans for v in s.attributes.values())
    for leaked in (WORDS, "5505", "u-6061", SECRET):
        assert leaked not in values


async def test_a_refused_message_is_a_span_with_its_outcome(tmp_path, spans) -> None:
    with FakeOpenAI([]) as llm:
        config = parse_config(
            config_yaml(llm.base_url, tmp_path, True)
            + "limits: {messages_per_minute_per_user: 1}\n",
            env={},
        )
        orchestrator = build_orchestrator(config)
        await orchestrator.start()
        try:
            first = ChatMessage("telegram", "-1009", "4242", "/help")
            await orchestrator.handle(first)
            await orchestrator.handle(ChatMessage("telegram", "-1009", "4242", "/help"))
        finally:
            await orchestrator.stop()
    outcomes = [s.attributes["orchestrator.outcome"] for s in spans.get_finished_spans()]
    assert outcomes == ["ok", "refused"]


def test_an_unknown_attribute_never_reaches_a_span(spans) -> None:
    with tracing.span("tool_call", server="time", text="a user's words") as traced:
        traced.set(outcome="ok", user_id="4242")
    (only,) = spans.get_finished_spans()
    assert dict(only.attributes or {}) == {
        "orchestrator.server": "time",
        "orchestrator.outcome": "ok",
    }


def test_a_failed_step_is_an_error_span_without_the_exception_text(spans) -> None:
    with pytest.raises(ValueError), tracing.span("tool_call", server="time"):
        raise ValueError(f"bad token {SECRET} in {WORDS}")
    (only,) = spans.get_finished_spans()
    assert only.status.status_code.name == "ERROR"
    assert only.status.description == "ValueError"
    assert list(only.events) == []


def test_enabled_without_the_packages_says_so_and_runs_without(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # as if not installed
    assert not tracing.configure(TracingSettings(enabled=True))
    assert not tracing.active()
    assert "tracing_unavailable reason=packages_missing" in caplog.text
    with tracing.span("message", platform="telegram") as traced:
        traced.set(outcome="ok")


# The MCP SDK imports opentelemetry's API itself (and redis-py its SDK's metrics, when installed),
# so the subprocess records every import of an opentelemetry module and the module importing it.
OFF_SCRIPT = """
import asyncio, json, sys, traceback

class Recorder:
    attempts = []

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "opentelemetry":
            frames = [f for f in traceback.extract_stack()[:-1] if "<frozen" not in f.filename]
            self.attempts.append({"module": name, "from": frames[-1].filename})
        return None

recorder = Recorder()
sys.meta_path.insert(0, recorder)
from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage
from orchestrator.reload import needs_restart

async def main():
    orchestrator = build_orchestrator(parse_config(sys.argv[1], env={}))
    await orchestrator.start()
    try:
        replies = await orchestrator.handle(ChatMessage("telegram", "-1", "7", "What time is it?"))
    finally:
        await orchestrator.stop()
    ours = [a for a in recorder.attempts if "/orchestrator/" in a["from"]]
    replied = any(r.text == "Noon." for r in replies)
    tracer = "opentelemetry.sdk.trace" in sys.modules
    print(json.dumps({"replied": replied, "ours": ours, "sdk_trace_loaded": tracer}))

asyncio.run(main())
"""


def test_with_tracing_off_the_core_never_imports_opentelemetry(tmp_path) -> None:
    script = [tool_call("time__get_current_time", {"timezone": "UTC"}), text("Noon.")]
    with FakeOpenAI(script) as llm:
        done = subprocess.run(
            [sys.executable, "-c", OFF_SCRIPT, config_yaml(llm.base_url, tmp_path, False)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=90,
        )
        llm.assert_clean()
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"replied": True, "ours": [], "sdk_trace_loaded": False}


def test_a_reload_reports_the_tracing_section_as_needing_a_restart() -> None:
    assert needs_restart("tracing.enabled") and needs_restart("tracing.endpoint")
