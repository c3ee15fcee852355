"""The memory side of a request: embed a message once, recall before the agent loop, remember
after it, and the start-up and retention work that keeps the encoders and the store ready.
Memory is an aid: every failure here is logged and the request goes on without it."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import numpy as np

from orchestrator.embedding.base import Embedder
from orchestrator.embedding.fused import first_block
from orchestrator.llm.agent import AgentResult
from orchestrator.memory.base import Memory, MemoryStore
from orchestrator.messages import ChatMessage
from orchestrator.services import Services
from orchestrator.tasks import stop_if_cancelled

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Embedded:
    """A message's vector, and its steps' vectors when the router split it into steps.
    `memory`: the vector memory stores and recalls by (the first encoder's part when the
    router fuses two encoders; `vector` otherwise)."""

    vector: np.ndarray
    steps: np.ndarray | None = None
    memory: np.ndarray | None = None

    @property
    def for_memory(self) -> np.ndarray:
        return self.vector if self.memory is None else self.memory


async def embed(services: Services, text: str) -> Embedded | None:
    """Embed a message once (with its steps, in the same batch, when the router splits
    multi-step requests); the vectors serve memory and routing alike."""
    router, embedder = services.router, services.embedder
    if router is not None:
        vector, steps = await router.request_vectors(text)
        return Embedded(vector, steps, first_block(vector, embedder))
    if embedder is None:
        return None
    vector = (await embedder.embed([text]))[0]
    return Embedded(vector, memory=first_block(vector, embedder))


async def recall(
    memory: MemoryStore | None, chat_key: str, embedded: Embedded | None, k: int
) -> list[Memory]:
    if memory is None or embedded is None or k == 0:
        return []
    try:
        return await memory.recall(chat_key, embedded.for_memory, k)
    except Exception as exc:  # noqa: BLE001 - memory is an aid, never a blocker
        log.warning("memory_recall_failed error=%s", type(exc).__name__)
        return []


async def remember(
    memory: MemoryStore | None,
    message: ChatMessage,
    result: AgentResult,
    embedded: Embedded | None,
) -> None:
    """Keep a complete answer with its request (queued: written after the reply)."""
    if memory is None or embedded is None or not result.is_answer:
        return
    item = Memory(
        id="",
        chat_key=message.conversation_key,
        user_id=message.user_id,
        request=message.text,
        summary=result.text[:500],
        tools_used=tuple(result.tools_used),
        success=result.success,
        timestamp=time.time(),
    )
    try:
        await memory.remember(item, embedded.for_memory)
    except Exception as exc:  # noqa: BLE001
        log.warning("memory_store_failed error=%s", type(exc).__name__)


async def warm_embedder(embedder: Embedder | None) -> None:
    if embedder is None:
        return
    started = time.monotonic()
    try:
        await embedder.embed(["warm up"])
    except Exception as exc:  # noqa: BLE001 - routing and memory degrade, the bot still runs
        log.warning("embedder_warm_failed error=%s", type(exc).__name__)
        return
    log.info("embedder_ready ms=%d", (time.monotonic() - started) * 1000)


async def open_memory(memory: MemoryStore | None) -> None:
    opener = getattr(memory, "open", None)
    if opener is None:
        return
    try:
        await asyncio.to_thread(opener)
    except Exception as exc:  # noqa: BLE001 - the first recall opens it again, or degrades
        log.warning("memory_open_failed error=%s", type(exc).__name__)


async def prune_forever(memory: MemoryStore, every_seconds: float = 3600) -> None:
    """Retention: `max_items_per_chat` and `max_age_days`, enforced hourly."""
    while True:
        try:
            await memory.prune()
        except Exception as exc:  # noqa: BLE001 - retention must never stop the bot
            log.warning("memory_prune_failed error=%s", type(exc).__name__)
        stop_if_cancelled()
        await asyncio.sleep(every_seconds)
