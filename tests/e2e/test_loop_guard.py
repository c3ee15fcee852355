"""The loop guards itself: a repeated call runs once, the step limit still ends in an answer,
and placeholders, cut answers and errors never become history."""

from __future__ import annotations

import sys
from pathlib import Path

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage
from tests.fakes.openai_server import FakeOpenAI, last_tool_result, text, tool_call

SERVERS = Path(__file__).resolve().parent.parent / "servers"


def config(llm_url: str, log: Path, llm_extra: str = "") -> str:
    return f"""
orchestrator:
  llm_settings: {{base_url: "{llm_url}", api_key: k, max_retries: 0, max_steps: 8{llm_extra}}}
  memory_system: {{type: none}}
  tool_routing: {{strategy: all}}
scheduler: {{enabled: false}}
mcp_servers:
  tasks:
    command: {sys.executable}
    args: ["{SERVERS / "annotated_tools.py"}", "{log}"]
"""


def msg(text_: str) -> ChatMessage:
    return ChatMessage(platform="test", chat_id="guard", user_id="ann", text=text_)


async def test_a_call_repeated_eight_times_runs_once_and_the_answer_holds_its_result(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    log.touch()
    repeat = tool_call("tasks__peek_task", {"task_id": "7"})
    final = lambda body: text("From what I have: " + last_tool_result(body))  # noqa: E731
    with FakeOpenAI([repeat] * 8 + [final]) as llm:
        bot = build_orchestrator(parse_config(config(llm.base_url, log), env={}))
        await bot.start()
        try:
            replies = await bot.handle(msg("show task 7"))
            session = await bot.services.sessions.load("test:guard")
        finally:
            await bot.stop()
    assert log.read_text().splitlines() == ["peeked 7"]  # ran once, answered from memory 7 times
    repeats = [m["content"] for m in llm.requests[8]["body"]["messages"] if m["role"] == "tool"]
    assert len(repeats) == 8 and all("task 7: open" in r for r in repeats)
    assert "already made this exact call" in repeats[-1]
    last = llm.requests[-1]["body"]
    assert "tools" not in last and "Answer the request now" in last["messages"][-1]["content"]
    assert replies[0].text == "From what I have: " + repeats[-1]
    assert replies[-1].text.endswith("ok") and "failed" not in replies[-1].text
    assert [t.role for t in session.turns] == ["user", "assistant"]


async def test_an_empty_answer_after_tools_ran_is_asked_again_without_tools(
    tmp_path: Path,
) -> None:
    (tmp_path / "log").touch()
    script = [
        tool_call("tasks__peek_task", {"task_id": "7"}),
        text(""),  # llama-cpp-python's chatml-function-calling, with tools offered
        lambda body: text("Task 7: " + last_tool_result(body)),
    ]
    with FakeOpenAI(script) as llm:
        bot = build_orchestrator(parse_config(config(llm.base_url, tmp_path / "log"), env={}))
        await bot.start()
        try:
            replies = await bot.handle(msg("show task 7"))
        finally:
            await bot.stop()
    assert "tools" not in llm.requests[-1]["body"]
    assert replies[0].text == "Task 7: task 7: open" and replies[-1].text.endswith("ok")


async def test_empty_and_cut_answers_are_said_honestly_and_never_kept(tmp_path: Path) -> None:
    script = [
        text(""),
        {"content": "The report begins with", "finish_reason": "length"},
        lambda body: text("history: " + " | ".join(m["content"] for m in body["messages"][1:])),
    ]
    with FakeOpenAI(script) as llm:
        bot = build_orchestrator(parse_config(config(llm.base_url, tmp_path / "log"), env={}))
        await bot.start()
        try:
            empty = await bot.handle(msg("hello?"))
            cut = await bot.handle(msg("write the report"))
            third = await bot.handle(msg("and now?"))
        finally:
            await bot.stop()
    assert "empty answer" in empty[0].text and "no answer" in empty[-1].text
    assert "ok" not in empty[-1].text.split("·")[-1]
    assert cut[0].text.startswith("The report begins with") and "cut off" in cut[0].text
    assert "cut short" in cut[-1].text
    # The next request sees only the users' words: no placeholder, no cut text.
    assert third[0].text == "history: hello? | write the report | and now?"
