"""The bot against a real llama.cpp server: what the README promises for self-hosted models.

The 270M model on a shared CPU is slow, so each test keeps `max_tokens` small and asks little.
Answers of so small a model are not judged for content, only for how the bot handles them.
"""

from __future__ import annotations

import pytest

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage, ReplyKind
from tests.conftest import time_server_yaml
from tests.llm.conftest import LlamaServer

pytestmark = [pytest.mark.llm, pytest.mark.timeout(900)]


def bot(
    server: LlamaServer, llm: str = "", servers: str = "", system: str = "", timeout: float = 300
) -> Orchestrator:
    prompt = f"  system_prompt: '{system}'\n" if system else ""
    servers_yaml = "\n" + servers if servers else " {}"
    return build_orchestrator(
        parse_config(
            f"""
orchestrator:
  llm_settings:
    provider: llama.cpp
    base_url: {server.base_url}
    model: gemma-3-270m
    temperature: 0
    timeout_seconds: {timeout}
    {llm}
  memory_system: {{type: none}}
  tool_routing: {{strategy: all}}
{prompt}scheduler: {{enabled: false}}
mcp_servers:{servers_yaml}""",
            env={},
        )
    )


def msg(text: str) -> ChatMessage:
    return ChatMessage("test", "llm", "ann", text)


async def ask(orchestrator: Orchestrator, text: str) -> list:  # type: ignore[type-arg]
    await orchestrator.start()
    try:
        return await orchestrator.handle(msg(text))
    finally:
        await orchestrator.stop()


async def test_a_plain_answer(llama_server: LlamaServer) -> None:
    replies = await ask(bot(llama_server, "max_tokens: 24"), "Say hello to the team.")
    assert replies[0].kind is ReplyKind.ANSWER and replies[0].text.strip()
    assert replies[-1].kind is ReplyKind.SUMMARY


async def test_a_tool_call_runs_through_a_real_mcp_server(llama_server: LlamaServer) -> None:
    before = llama_server.completions_served()
    replies = await ask(
        bot(
            llama_server,
            "max_tokens: 32\n    max_steps: 2",
            time_server_yaml(),
            system="You answer by calling a function.",
        ),
        "Call functions.time__get_current_time for Asia/Tokyo.",
    )
    summary = replies[-1].text
    assert "time/get_current_time" in summary and "failed" not in summary, summary
    assert replies[0].kind is ReplyKind.ANSWER
    assert llama_server.completions_served() - before >= 2  # the result went back to the model


async def test_max_tokens_stops_a_long_generation_and_it_is_reported_cut(
    llama_server: LlamaServer,
) -> None:
    replies = await ask(
        bot(llama_server, "max_tokens: 8"), "Write a very long story about a dragon and a king."
    )
    assert "cut off" in replies[0].text and "cut short" in replies[-1].text


async def test_a_generation_slower_than_the_timeout_is_not_resent(
    llama_server: LlamaServer,
) -> None:
    before = llama_server.completions_served()
    silent = bot(llama_server, "max_tokens: 64\n    stream: false\n    max_retries: 2", timeout=0.5)
    replies = await ask(silent, "Write a long poem about the sea.")
    assert replies[0].kind is ReplyKind.ERROR and "went silent for 0.5 s" in replies[0].text
    assert llama_server.completions_served() - before == 1  # asked once, not three times
    # Streamed, the same server is not cut off while it answers, and is not wedged.
    streamed = await ask(bot(llama_server, "max_tokens: 16"), "Say hello.")
    assert streamed[0].kind is not ReplyKind.ERROR
