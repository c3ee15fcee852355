"""Hostile input through the real core (issue 27): usage errors stay usage errors, and a config
that would exhaust memory is refused by /reload while the running config goes on."""

from __future__ import annotations

from pathlib import Path

from orchestrator.app import build_orchestrator
from orchestrator.config import load_config
from orchestrator.messages import ChatMessage, ReplyKind
from tests.conftest import time_server_yaml
from tests.unit.test_config_hostile import alias_bomb

ADMIN = ChatMessage("console", "team", "boss", "", user_name="Boss")


def say(text: str) -> ChatMessage:
    return ChatMessage(ADMIN.platform, ADMIN.chat_id, ADMIN.user_id, text, user_name="Boss")


def config_text(tmp_path: Path) -> str:
    return (
        "orchestrator:\n  memory_system: {type: none}\n"
        f"admins: ['console:boss']\nscheduler: {{path: '{tmp_path / 's.json'}'}}\n"
        f"mcp_servers:\n{time_server_yaml()}"
    )


async def test_out_of_range_and_too_deep_are_usage_messages_and_a_bomb_reload_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(config_text(tmp_path))
    bot = build_orchestrator(load_config(path))
    await bot.start()
    try:
        [far] = await bot.handle(say("/schedule in 99999999999 days check the weather"))
        assert "5 years" in far.text and "went wrong" not in far.text
        nested = '{"a": ' + "[" * 600 + "]" * 600 + "}"
        [deep] = await bot.handle(say(f"/run time get_current_time {nested}"))
        assert deep.kind is ReplyKind.ERROR and "nested too deeply" in deep.text
        [mars] = await bot.handle(say("/timezone Mars/Olympus"))
        assert "went wrong" not in mars.text

        path.write_text(config_text(tmp_path) + alias_bomb(9))
        [reload] = await bot.handle(say("/reload"))
        assert "still running the old one" in reload.text
        assert "x-a3[0][0]: aliases expand more than 100 times" in reload.text
        [status] = await bot.handle(say("/status"))  # the running config and servers go on
        assert "time" in status.text
    finally:
        await bot.stop()
