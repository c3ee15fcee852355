"""The memory store opens while the bot starts, not inside the first message's reply."""

from __future__ import annotations

from pathlib import Path

from orchestrator.app import build_orchestrator
from orchestrator.config import parse_config
from orchestrator.memory.chroma_store import ChromaMemoryStore
from orchestrator.memory.write_behind import WriteBehindMemory
from tests.fakes.openai_server import FakeOpenAI, text


async def test_start_opens_the_chroma_store_before_any_message(tmp_path: Path) -> None:
    with FakeOpenAI(default=text("hi")) as llm:
        config = parse_config(
            f"orchestrator:\n  llm_settings: {{base_url: '{llm.base_url}', api_key: k}}\n"
            f"  memory_system: {{persist_directory: '{tmp_path / 'mem'}'}}\n"
            "scheduler: {enabled: false}\n",
            env={},
        )
        bot = build_orchestrator(config)
        memory = bot.services.memory
        assert isinstance(memory, WriteBehindMemory)
        assert isinstance(memory.store, ChromaMemoryStore)
        assert memory.store._client is None
        await bot.start()
        try:
            assert memory.store._client is not None
        finally:
            await bot.stop()
