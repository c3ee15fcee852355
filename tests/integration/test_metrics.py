"""`/metrics` on the process's web server: Prometheus' own parser reads it, and the counters
move when a message goes through the real core (a command that calls a real MCP tool, and free
text answered by the fake OpenAI-compatible server)."""

from __future__ import annotations

from collections.abc import Iterable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage
from tests.conftest import time_server_yaml
from tests.fakes.openai_server import FakeOpenAI, text


def samples(page: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(page):
        assert family.name.startswith("orchestrator_"), family.name
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def label_values(found: dict) -> Iterable[str]:
    for _name, labels in found:
        for _key, label in labels:
            yield label


async def test_metrics_parse_and_move_after_a_message_through_the_core(tmp_path) -> None:
    with FakeOpenAI(default=text("All good <b>team</b>.")) as llm:
        config = parse_config(
            "orchestrator:\n"
            f"  llm_settings: {{base_url: '{llm.base_url}', api_key: sk-metric-secret, "
            "model: test-model, max_retries: 0}\n"
            "  memory_system: {type: none}\n"
            "scheduler: {enabled: false}\n"
            "http: {port: 0}\n"
            f"audit: {{path: '{tmp_path / 'audit.jsonl'}'}}\n"
            f"mcp_servers:\n{time_server_yaml()}",
            env={},
        )
        orchestrator = build_orchestrator(config)
        await orchestrator.start()
        try:
            async with httpx.AsyncClient(base_url=orchestrator.web.base_url) as client:
                before = samples((await client.get("/metrics")).text)
                run = ChatMessage(
                    "telegram", "-100", "7", '/run time get_current_time {"timezone": "UTC"}'
                )
                await orchestrator.handle(run)
                await orchestrator.handle(ChatMessage("telegram", "-100", "7", "how are we?"))
                page = await client.get("/metrics")
                health = (await client.get("/healthz")).json()
        finally:
            await orchestrator.stop()
    assert page.headers["content-type"].startswith("text/plain")
    after = samples(page.text)
    moved = {
        name: value(after, name, **labels) - value(before, name, **labels)
        for name, labels in [
            ("orchestrator_messages_total", {"platform": "telegram", "outcome": "ok"}),
            ("orchestrator_handle_seconds_count", {"platform": "telegram"}),
            (
                "orchestrator_tool_calls_total",
                {"server": "time", "tool": "get_current_time", "outcome": "ok"},
            ),
            ("orchestrator_tool_call_seconds_count", {"server": "time"}),
            ("orchestrator_model_call_seconds_count", {"model": "test-model"}),
            ("orchestrator_llm_tokens_total", {"model": "test-model"}),
        ]
    }
    assert moved == {
        "orchestrator_messages_total": 2,
        "orchestrator_handle_seconds_count": 2,
        "orchestrator_tool_calls_total": 1,
        "orchestrator_tool_call_seconds_count": 1,
        "orchestrator_model_call_seconds_count": 1,
        "orchestrator_llm_tokens_total": 15,
    }
    assert value(after, "orchestrator_mcp_server_up", server="time") == 1
    assert health == {"ok": True, "status": "ok", "servers": 1, "servers_up": 1}
    # Labels are bounded names only: no chat id, no user text, no secret.
    labels = set(label_values(after))
    assert not labels & {"-100", "7", "how are we?"}
    assert "sk-metric-secret" not in page.text
