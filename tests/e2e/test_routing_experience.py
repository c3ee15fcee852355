"""Routing learns from a chat's own history: a tool that earlier, similar and successful
requests used is offered again, even where cold routing would pick another one.

Real parts: the core, the router with real embeddings, long-term memory in real Chroma, the
mcp-server-time subprocess, and the openai client against the scripted fake server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage
from tests.conftest import time_server_yaml
from tests.fakes.openai_server import FakeOpenAI, text, tool_call

CALLS = {
    "time__get_current_time": {"timezone": "Europe/Lisbon"},
    "time__convert_time": {
        "source_timezone": "Europe/Lisbon",
        "time": "09:00",
        "target_timezone": "Australia/Sydney",
    },
}


def offered(body: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools", []) if t["function"]["name"] in CALLS]


class ReachPastTheRouting:
    """The model wants the time tool it was not given: it finds it with search_tools, then
    calls it."""

    def __init__(self) -> None:
        self.wanted = ""

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        self.wanted = next(name for name in CALLS if name not in offered(body))
        return tool_call("search_tools", {"query": self.wanted.split("__")[1].replace("_", " ")})

    def call(self, body: dict[str, Any]) -> dict[str, Any]:
        return tool_call(self.wanted, CALLS[self.wanted])


async def test_a_tool_this_chat_used_for_similar_requests_is_routed_again(
    tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    model = ReachPastTheRouting()
    script = [
        model.search,
        model.call,
        text("Done."),
        text("Again."),
        text("Elsewhere."),
    ]
    with FakeOpenAI(script) as llm:
        config = parse_config(
            f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
            f"  memory_system: {{persist_directory: '{tmp_path / 'mem'}'}}\n"
            "  tool_routing: {strategy: semantic, top_k: 1}\n"
            f"scheduler: {{enabled: false}}\nmcp_servers:\n{time_server_yaml()}",
            env={},
        )
        bot = build_orchestrator(config)
        await bot.start()
        try:
            first = await bot.handle(
                ChatMessage("telegram", "-1", "ann", "what's the time in Lisbon?")
            )
            cold = offered(llm.requests[0]["body"])
            found = offered(llm.requests[1]["body"])  # the searched-for tool joined
            await bot.handle(ChatMessage("telegram", "-1", "bob", "what's the time in Porto?"))
            warm = offered(llm.requests[3]["body"])
            await bot.handle(ChatMessage("telegram", "-2", "eve", "what's the time in Porto?"))
            other_chat = offered(llm.requests[4]["body"])
        finally:
            await bot.stop()
    assert "Done." in first[0].text
    assert len(cold) == 1 and set(found) == set(CALLS)
    assert warm == [model.wanted] != cold
    assert other_chat == cold
