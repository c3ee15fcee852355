"""Memory through the orchestrator: stored per chat, recalled into the prompt, /memory, /forget."""

from __future__ import annotations

import logging
from pathlib import Path

from orchestrator.app import build_orchestrator
from orchestrator.audit import AUDIT_LOGGER
from orchestrator.config import parse_config
from orchestrator.messages import ChatMessage
from tests.fakes.openai_server import FakeOpenAI, text


def msg(chat: str, text_: str, user: str = "ann", admin: bool = False) -> ChatMessage:
    return ChatMessage("telegram", chat, user, text_, user_name=user, is_admin=admin)


async def test_memories_stay_in_their_chat_and_can_be_listed_and_forgotten(
    tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    with FakeOpenAI(default=text("Noted: the Globex invoice is due Friday.")) as llm:
        config = parse_config(
            f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
            f"  memory_system: {{persist_directory: '{tmp_path / 'mem'}'}}\n"
            "scheduler: {enabled: false}\n",
            env={},
        )
        bot = build_orchestrator(config)
        await bot.start()
        try:
            await bot.handle(msg("-1", "remember that the Globex invoice is due Friday"))
            await bot.handle(msg("-1", "when is the Globex invoice due?"))
            recalled = llm.requests[-1]["body"]["messages"][-1]["content"]
            system = llm.requests[-1]["body"]["messages"][0]["content"]
            await bot.handle(msg("-2", "when is the Globex invoice due?", user="eve"))
            other_chat = llm.requests[-1]["body"]["messages"][-1]["content"]
            listed = (await bot.handle(msg("-1", "/memory")))[0].text
            elsewhere = (await bot.handle(msg("-3", "/memory")))[0].text
            refused = (await bot.handle(msg("-1", "/forget all")))[0].text
            mine = (await bot.handle(msg("-1", "/forget")))[0].text
            wiped = (await bot.handle(msg("-1", "/forget all", admin=True)))[0].text
            after = (await bot.handle(msg("-1", "/memory")))[0].text
        finally:
            await bot.stop()
    assert "<recalled_memories>" in recalled and "Globex invoice is due Friday" in recalled
    assert recalled.endswith("when is the Globex invoice due?")
    assert "Globex" not in system  # memories are data in the user's turn, not instructions
    assert "<recalled_memories>" not in other_chat
    assert "Memories (page 1)" in listed and "Globex" in listed
    assert elsewhere == "Nothing remembered here yet."
    assert "Only admins" in refused
    assert mine == "Forgot your last request."
    assert wiped.startswith("Forgot everything in this chat (")
    assert after == "Nothing remembered here yet."


class AuditRecords(logging.Handler):
    """The audit records written while attached (the trail's own logger, as a sink sees it)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.audit)  # type: ignore[attr-defined]


async def test_remember_stores_a_note_recalled_later_and_forget_all_is_audited(
    tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    trail = AuditRecords()
    logging.getLogger(AUDIT_LOGGER).addHandler(trail)
    with FakeOpenAI(default=text("Friday.")) as llm:
        config = parse_config(
            f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
            f"  memory_system: {{persist_directory: '{tmp_path / 'mem'}'}}\n"
            "scheduler: {enabled: false}\n",
            env={},
        )
        bot = build_orchestrator(config)
        await bot.start()
        try:
            noted = await bot.handle(msg("-1", "/remember the Globex invoice is due Friday"))
            usage = (await bot.handle(msg("-1", "/remember")))[0].text
            listed = (await bot.handle(msg("-1", "/memory")))[0].text
            await bot.handle(msg("-1", "when is the Globex invoice due?"))
            recalled = llm.requests[-1]["body"]["messages"][-1]["content"]
            await bot.handle(msg("-1", "/forget all", admin=True))
        finally:
            await bot.stop()
            logging.getLogger(AUDIT_LOGGER).removeHandler(trail)
    assert noted[0].text.startswith("Noted.")
    assert "/remember" in usage and "pydantic" not in usage
    assert "Globex invoice is due Friday" in listed
    assert "<recalled_memories>" in recalled and "Globex invoice is due Friday" in recalled
    actions = [(r["action"], r["chat"]) for r in trail.records]
    assert ("memory_remember", "-1") in actions
    forgot = [r for r in trail.records if r["action"] == "memory_forget"]
    # the note and the answered question
    assert forgot and forgot[-1]["detail"] == "all: 2 item(s)", forgot  # type: ignore[union-attr]
