"""`/run` typed without what it needs gets a usage line, never the server's raw pydantic error
(the real `mcp-server-time` as a subprocess, through the real core)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage, ReplyKind
from tests.conftest import time_server_yaml


def say(text: str) -> ChatMessage:
    return ChatMessage("console", "team", "ann", text, user_name="ann")


async def test_run_without_arguments_shows_usage_not_a_pydantic_error(tmp_path: Path) -> None:
    config = parse_config(
        "orchestrator:\n  memory_system: {type: none}\nscheduler: {enabled: false}\n"
        f"mcp_servers:\n{time_server_yaml()}",
        env={},
    )
    bot = build_orchestrator(config)
    await bot.start()
    try:
        bare = (await bot.handle(say("/run")))[0]
        no_args = (await bot.handle(say("/run time get_current_time")))[0]
        works = (await bot.handle(say('/run time get_current_time {"timezone": "UTC"}')))[0]
    finally:
        await bot.stop()
    assert bare.kind is ReplyKind.ERROR and "Usage: /run <server> <tool>" in bare.text
    assert no_args.kind is ReplyKind.ERROR, no_args.text
    assert no_args.text.startswith("time/get_current_time needs timezone. Usage: /run time")
    assert "pydantic" not in no_args.text and "http" not in no_args.text
    assert works.kind is not ReplyKind.ERROR and "UTC" in works.text
