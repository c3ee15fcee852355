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
from tests.llm.conftest import CountingProxy, LlamaServer

pytestmark = [pytest.mark.llm, pytest.mark.timeout(900)]


def bot(
    server: LlamaServer,
    llm: str = "",
    servers: str = "",
    system: str = "",
    timeout: float = 300,
    base_url: str = "",
) -> Orchestrator:
    prompt = f"  system_prompt: '{system}'\n" if system else ""
    servers_yaml = "\n" + servers if servers else " {}"
    return build_orchestrator(
        parse_config(
            f"""
orchestrator:
  llm_settings:
    provider: llama.cpp
    base_url: {base_url or server.base_url}
    model: gemma-3-270m
    temperature: 0
    timeout_seconds: {timeout}
    {llm}
  memory_system: {{type: none}}
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
    port = int(llama_server.base_url.rsplit(":", 1)[1].split("/")[0])
    proxy = CountingProxy(port)
    async with proxy as url:
        replies = await ask(
            bot(
                llama_server,
                "max_tokens: 32\n    max_steps: 2",
                time_server_yaml(),
                system="You answer by calling a function.",
                base_url=url,
            ),
            "Call functions.time__get_current_time for Asia/Tokyo.",
        )
    summary = replies[-1].text
    assert "time/get_current_time" in summary and "failed" not in summary, summary
    assert replies[0].kind is ReplyKind.ANSWER
    assert proxy.completions >= 2  # the tool's result went back to the model


async def test_max_tokens_stops_a_long_generation_and_it_is_reported_cut(
    llama_server: LlamaServer,
) -> None:
    # The opening of test_a_plain_answer's answer (temperature 0), stopped after two tokens.
    replies = await ask(bot(llama_server, "max_tokens: 2"), "Say hello to the team.")
    assert "cut off" in replies[0].text and "cut short" in replies[-1].text


async def test_a_generation_slower_than_the_timeout_is_not_resent(
    llama_server: LlamaServer,
) -> None:
    port = int(llama_server.base_url.rsplit(":", 1)[1].split("/")[0])
    proxy = CountingProxy(port, hold_first_answer=3.0)  # silent well past the 0.5 s timeout
    async with proxy as url:
        settings = "max_tokens: 64\n    stream: false\n    max_retries: 2"
        silent = bot(llama_server, settings, timeout=0.5, base_url=url)
        replies = await ask(silent, "Write a long poem about the sea.")
        assert replies[0].kind is ReplyKind.ERROR and "went silent for 0.5 s" in replies[0].text
        assert proxy.completions == 1  # asked once: no retry piles onto the busy server
        # Streamed, the same server answers (after finishing the abandoned generation).
        streamed = await ask(bot(llama_server, "max_tokens: 16", base_url=url), "Say hello.")
    assert streamed[0].kind is not ReplyKind.ERROR and "empty answer" not in streamed[0].text
    # One streamed request, and one more when gemma's first answer is empty (it often is with
    # tools offered): the empty-answer fallback asks once again without tools (issue 29).
    assert proxy.completions in (2, 3)
