"""Data stays data with the real memory and router: a remembered instruction changes nothing,
the search meta-tool cannot widen a chat's allow-list, and placeholders are never remembered."""

from __future__ import annotations

import sys
from pathlib import Path

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.core import Orchestrator
from orchestrator.messages import ChatMessage
from tests.fakes.openai_server import FakeOpenAI, last_tool_result, text, tool_call
from tests.servers.annotated_tools import INJECTION

SERVERS = Path(__file__).resolve().parent.parent / "servers"


def bot_for(llm_url: str, tmp_path: Path, extra: str = "") -> Orchestrator:
    return build_orchestrator(
        parse_config(
            f"""
orchestrator:
  llm_settings: {{base_url: "{llm_url}", api_key: k, max_retries: 0}}
  memory_system: {{persist_directory: "{tmp_path / "mem"}", relevance_threshold: -1}}
  tool_routing: {{strategy: semantic}}
scheduler: {{enabled: false}}
mcp_servers:
  tasks:
    command: {sys.executable}
    args: ["{SERVERS / "annotated_tools.py"}", "{tmp_path / "log"}"]
{extra}""",
            env={},
        )
    )


def msg(text_: str, user: str = "ann") -> ChatMessage:
    return ChatMessage("telegram", "-9", user, text_, user_name=user)


async def test_a_remembered_instruction_is_data_and_cannot_skip_an_approval(
    tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "log").touch()
    script = [
        text(f"Noted: {INJECTION}"),  # any member can get this stored as a memory
        tool_call("tasks__delete_task", {"task_id": "42"}),  # the model obeys the memory
    ]
    with FakeOpenAI(script) as llm:
        bot = bot_for(llm.base_url, tmp_path)
        await bot.start()
        try:
            await bot.handle(msg(f"please remember: {INJECTION}", user="mallory"))
            replies = await bot.handle(msg("what should we do with task 42?"))
        finally:
            await bot.stop()
    messages = llm.requests[-1]["body"]["messages"]
    assert INJECTION not in messages[0]["content"]  # never in the system prompt
    recalled = messages[-1]["content"]
    assert recalled.index("<recalled_memories>") < recalled.index(INJECTION)
    assert recalled.index(INJECTION) < recalled.index("</recalled_memories>")
    assert replies[0].choices and "task id '42'" in replies[0].text  # waits for a person
    assert "deleted" not in (tmp_path / "log").read_text()


async def test_the_search_meta_tool_cannot_reach_past_the_allow_list_and_nothing_odd_is_kept(
    tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "log").touch()
    policy = "chats:\n  'telegram:-9': {tools: [tasks/read_notes]}\n"
    script = [
        tool_call("search_tools", {"query": "delete a task"}),
        tool_call("tasks__delete_task", {"task_id": "7"}, offered=False),
        lambda body: text(""),  # and then no answer at all,
        text(""),  # not even when asked again without tools
    ]
    with FakeOpenAI(script) as llm:
        bot = bot_for(llm.base_url, tmp_path, policy)
        await bot.start()
        try:
            replies = await bot.handle(msg("delete task 7"))
            session = await bot.services.sessions.load("telegram:-9")
            assert bot.services.memory is not None and bot.services.embedder is not None
            vector = (await bot.services.embedder.embed(["delete task 7"]))[0]
            remembered = await bot.services.memory.recall("telegram:-9", vector, 5)
        finally:
            await bot.stop()
    found = [m["content"] for m in llm.requests[1]["body"]["messages"] if m["role"] == "tool"]
    assert "delete_task" not in found[0]  # the search only finds tools this chat may use
    assert "not one of the tools offered" in last_tool_result(llm.requests[2]["body"])
    assert "deleted" not in (tmp_path / "log").read_text()
    assert "empty answer" in replies[0].text
    assert [t.role for t in session.turns] == ["user"]  # the placeholder is not history
    assert remembered == []  # nor a memory
