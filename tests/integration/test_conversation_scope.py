"""What a conversation (chat + topic/thread) scopes in the core: session, long-term memory,
/forget and /memory follow the topic; policy stays the chat's; `topics: shared` merges them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from orchestrator.config import parse_config
from orchestrator.memory.base import Memory
from orchestrator.messages import ChatMessage
from tests.fakes.openai_server import FakeOpenAI, text
from tests.helpers import chat_orchestrator


class FlatEmbedder:
    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.ones((len(texts), 4), dtype=np.float32)


class RecordingMemory:
    """A memory store that keeps items by the key the core hands it."""

    def __init__(self) -> None:
        self.items: list[Memory] = []
        self.calls: list[tuple[str, str]] = []

    async def recall(self, chat_key: str, vector: np.ndarray, k: int = 5) -> list[Memory]:
        self.calls.append(("recall", chat_key))
        return [m for m in self.items if m.chat_key == chat_key][:k]

    async def remember(self, memory: Memory, vector: np.ndarray) -> None:
        self.items.append(memory)

    async def recent(self, chat_key: str, offset: int = 0, limit: int = 10) -> list[Memory]:
        return [m for m in self.items if m.chat_key == chat_key][offset : offset + limit]

    async def forget_chat(self, chat_key: str) -> int:
        self.calls.append(("forget_chat", chat_key))
        return 0

    async def forget_last(self, chat_key: str, user_id: str) -> int:
        self.calls.append(("forget_last", chat_key))
        return 0

    async def prune(self) -> int:
        return 0

    async def close(self) -> None:
        return None


def in_topic(text_: str, topic: str | None) -> ChatMessage:
    return ChatMessage("telegram", "-100", "1", text_, "Ann", thread_id=topic)


def test_the_conversation_key_is_the_chat_plus_its_topic_unless_shared() -> None:
    assert in_topic("x", None).conversation_key == "telegram:-100"
    assert in_topic("x", "77").conversation_key == "telegram:-100:77"
    assert in_topic("x", "77").chat_key == "telegram:-100"  # policy, allow-list: the chat's
    orchestrator = chat_orchestrator(with_time_server=False)
    assert orchestrator.in_conversation(in_topic("x", "77")).conversation_key.endswith(":77")
    shared = parse_config("chats:\n  'telegram:-100': {topics: shared}\n", env={}).chats
    orchestrator.config.chats.update(shared)
    assert orchestrator.in_conversation(in_topic("x", "77")).conversation_key == "telegram:-100"


async def test_memory_and_forget_follow_the_topic() -> None:
    with FakeOpenAI(default=text("noted")) as llm:
        orchestrator = chat_orchestrator(llm.base_url, with_time_server=False)
        memory = RecordingMemory()
        orchestrator.services.memory = memory
        orchestrator.services.embedder = FlatEmbedder()
        await orchestrator.handle(in_topic("the password is alpha", "77"))
        await orchestrator.handle(in_topic("what is the password?", "88"))
        await orchestrator.handle(in_topic("/forget", "88"))
        await orchestrator.stop()
    assert [m.chat_key for m in memory.items] == ["telegram:-100:77", "telegram:-100:88"]
    assert memory.calls == [
        ("recall", "telegram:-100:77"),
        ("recall", "telegram:-100:88"),  # topic 77's memory is not recalled in 88
        ("forget_last", "telegram:-100:88"),
    ]
    assert "alpha" not in str(llm.requests[1]["body"]["messages"])
