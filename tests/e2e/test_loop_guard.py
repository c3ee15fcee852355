"""The loop guards itself: the first repeat of a call ends the tool phase, an empty answer is asked
again without tools, and placeholders, cut answers and errors never become history. The strict
fake model fails a test that asks it more often than its script says."""

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
scheduler: {{enabled: false}}
mcp_servers:
  tasks:
    command: {sys.executable}
    args: ["{SERVERS / "annotated_tools.py"}", "{log}"]
"""


def msg(text_: str) -> ChatMessage:
    return ChatMessage(platform="test", chat_id="guard", user_id="ann", text=text_)


async def test_the_first_repeat_of_a_call_ends_the_tool_phase_in_three_model_calls(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    log.touch()
    repeat = tool_call("tasks__peek_task", {"task_id": "7"})
    final = lambda body: text("From what I have: " + last_tool_result(body))  # noqa: E731
    # A model that would repeat the call until the step limit: the strict fake fails the test if
    # the loop asks a fourth time.
    with FakeOpenAI([repeat, repeat, final]) as llm:
        bot = build_orchestrator(parse_config(config(llm.base_url, log), env={}))
        await bot.start()
        try:
            replies = await bot.handle(msg("show task 7"))
            session = await bot.services.sessions.load("test:guard")
        finally:
            await bot.stop()
    assert len(llm.requests) == 3
    assert log.read_text().splitlines() == ["peeked 7"]  # ran once, the repeat got its result
    last = llm.requests[-1]["body"]
    repeats = [m["content"] for m in last["messages"] if m["role"] == "tool"]
    assert len(repeats) == 2 and all("task 7: open" in r for r in repeats)
    assert "already made this exact call" in repeats[-1]
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


async def test_an_empty_answer_to_a_plain_question_is_asked_again_without_tools(
    tmp_path: Path,
) -> None:
    """The README's llama.cpp recipe (chatml-function-calling): with tools offered, a plain
    question gets an empty answer; without them, the model answers."""
    with FakeOpenAI([text(""), text("Paris.")]) as llm:
        bot = build_orchestrator(parse_config(config(llm.base_url, tmp_path / "log"), env={}))
        await bot.start()
        try:
            replies = await bot.handle(msg("what is the capital of France?"))
        finally:
            await bot.stop()
    first, again = (r["body"] for r in llm.requests)
    assert first["tools"] and "tools" not in again
    assert "without calling any tool" in again["messages"][-1]["content"]
    assert replies[0].text == "Paris." and replies[-1].text.endswith("ok")


async def test_empty_and_cut_answers_are_said_honestly_and_never_kept(tmp_path: Path) -> None:
    script = [
        text(""),
        text(""),  # asked again without tools: still empty
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
