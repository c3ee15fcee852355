"""One real message from text to tool to reply: real openai client, real MCP subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage, ReplyKind
from tests.conftest import REPO, time_server_yaml
from tests.fakes.openai_server import FakeOpenAI, error, last_tool_result, text, tool_call


def config_text(llm_url: str | None = None, extra: str = "") -> str:
    llm = (
        f"  llm_settings:\n    base_url: {llm_url}\n    api_key: test-key\n"
        f"    model: fake-model\n    max_retries: 0\n"
        if llm_url
        else ""
    )
    return (
        f"orchestrator:\n{llm}  memory_system:\n    type: none\n"
        f"mcp_servers:\n{time_server_yaml()}{extra}"
    )


def message(text_: str, user: str = "u1") -> ChatMessage:
    return ChatMessage(platform="test", chat_id="c1", user_id=user, text=text_, user_name="ann")


@pytest.fixture
async def no_llm_bot() -> AsyncIterator[Orchestrator]:
    bot = build_orchestrator(parse_config(config_text(), env={}))
    await bot.start()
    yield bot
    await bot.stop()


async def test_llm_calls_time_tool_and_reply_holds_its_result() -> None:
    script = [
        tool_call("time__get_current_time", {"timezone": "Europe/London"}),
        lambda body: text("Here you go: " + last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        bot = build_orchestrator(parse_config(config_text(llm.base_url), env={}))
        await bot.start()
        try:
            replies = await bot.handle(message("what time is it in London?"))
        finally:
            await bot.stop()
    answer = replies[0].text
    assert answer.startswith("Here you go:")
    assert '"timezone": "Europe/London"' in answer and '"datetime"' in answer
    assert replies[-1].kind is ReplyKind.SUMMARY and "time/get_current_time" in replies[-1].text
    first = llm.requests[0]["body"]
    assert first["model"] == "fake-model"
    assert "time__get_current_time" in {t["function"]["name"] for t in first["tools"]}
    assert llm.requests[0]["auth"] == "Bearer test-key"
    tool_messages = [m for m in llm.requests[1]["body"]["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 1


async def test_run_command_calls_tool_without_llm(no_llm_bot: Orchestrator) -> None:
    replies = await no_llm_bot.handle(
        message('/run time get_current_time {"timezone": "Asia/Tokyo"}')
    )
    assert "Asia/Tokyo" in replies[0].text and "+09:00" in replies[0].text


async def test_free_text_without_llm_says_how_to_configure_one(no_llm_bot: Orchestrator) -> None:
    replies = await no_llm_bot.handle(message("what time is it?"))
    assert "No language model is configured" in replies[0].text
    assert "OPENAI_API_KEY" in replies[0].text


async def test_tools_and_help_commands(no_llm_bot: Orchestrator) -> None:
    tools = (await no_llm_bot.handle(message("/tools")))[0].text
    assert "time (up)" in tools and "get_current_time" in tools
    help_text = (await no_llm_bot.handle(message("/help")))[0].text
    for name in ("/tools", "/run", "/status"):
        assert name in help_text


@pytest.mark.parametrize(
    ("text_", "expected"),
    [
        ("/nosuchcommand", "Unknown command /nosuchcommand"),
        ("/run time", "missing <tool>"),
        ("/run time get_current_time {not json", "arguments must be a JSON object"),
        ("/run time no_such_tool {}", "There is no tool time/no_such_tool"),
        ("/run nosuchserver x {}", "There is no tool nosuchserver/x"),
        ('/run time get_current_time {"timezone": "Mars/Base"}', "reported an error"),
        ("/reload", "for admins only"),
    ],
)
async def test_bad_input_gets_a_clear_message(
    no_llm_bot: Orchestrator, text_: str, expected: str
) -> None:
    replies = await no_llm_bot.handle(message(text_))
    assert expected in replies[0].text
    assert replies[0].kind is ReplyKind.ERROR


async def test_llm_failure_is_a_clear_reply_and_bot_keeps_working() -> None:
    with FakeOpenAI(
        [error(500, "boom"), error(429, "slow down", retry_after=0), text("fine again")]
    ) as llm:
        bot = build_orchestrator(parse_config(config_text(llm.base_url), env={}))
        await bot.start()
        try:
            first = await bot.handle(message("hi"))
            second = await bot.handle(message("hi"))
            third = await bot.handle(message("hi"))
        finally:
            await bot.stop()
    assert "HTTP 500" in first[0].text and first[0].kind is ReplyKind.ERROR
    assert "HTTP 429" in second[0].text
    assert third[0].text == "fine again"


async def test_secret_never_reaches_a_reply() -> None:
    env = {"SECRET_TZ": "Secret/Zone-abcdef"}
    cfg = config_text() + "    env:\n      - name: TIME_API_TOKEN\n        value: ${SECRET_TZ}\n"
    bot = build_orchestrator(parse_config(cfg, env=env))
    await bot.start()
    try:
        replies = await bot.handle(
            message('/run time get_current_time {"timezone": "Secret/Zone-abcdef"}')
        )
    finally:
        await bot.stop()
    assert "Secret/Zone-abcdef" not in replies[0].text and "***" in replies[0].text


def test_piped_console_lists_tools_and_exits_0(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MEMORY_DIR": str(tmp_path / "mem"),
        "SCHEDULES_FILE": str(tmp_path / "s.json"),
    }
    env.pop("OPENAI_API_KEY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "chat"],
        input="/tools\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "get_current_time" in proc.stdout
    assert "Traceback" not in proc.stderr


async def test_malformed_tool_arguments_are_sent_back_to_the_model_not_run() -> None:
    bad = {"tool_calls": [{"name": "time__get_current_time", "arguments": "oops", "id": "c1"}]}
    script = [bad, lambda body: text("model saw: " + last_tool_result(body))]
    with FakeOpenAI(script) as llm:
        bot = build_orchestrator(parse_config(config_text(llm.base_url), env={}))
        await bot.start()
        try:
            replies = await bot.handle(message("time please"))
        finally:
            await bot.stop()
    assert "not a JSON object" in replies[0].text
    assert "1 failed" in replies[-1].text
