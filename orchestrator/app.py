"""Wiring: build the real parts named in the config and hand them to the core."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from orchestrator.config import Config
from orchestrator.core import Orchestrator, Services
from orchestrator.hub import McpHub
from orchestrator.llm import OpenAICompatibleLLM
from orchestrator.protocols import Clock


class LazyEmbedder:
    """Loads the shared model on first use, so commands never wait for torch to import."""

    dim = 384

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._inner = None

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._inner is None:
            async with self._lock:
                if self._inner is None:
                    from orchestrator.embedder import get_embedder

                    self._inner = await asyncio.to_thread(get_embedder)
        return await self._inner.embed(texts)


def build_services(config: Config) -> Services:
    from orchestrator.memory_factory import make_memory_store
    from orchestrator.sessions_factory import make_session_store

    settings = config.orchestrator
    llm = OpenAICompatibleLLM(settings.llm_settings) if settings.llm_settings.configured else None
    memory = make_memory_store(settings.memory_system)
    semantic = settings.tool_routing.strategy == "semantic"
    embedder = LazyEmbedder() if (memory is not None or semantic) else None
    router = None
    if semantic and embedder is not None:
        from orchestrator.routing.router import ToolRouter

        router = ToolRouter(
            embedder,
            top_k=settings.tool_routing.top_k,
            threshold=settings.tool_routing.confidence_threshold,
        )
    return Services(
        hub=McpHub.from_config(config),
        sessions=make_session_store(config.sessions, bot=settings.name),
        llm=llm,
        embedder=embedder,
        memory=memory,
        router=router,
    )


def build_orchestrator(config: Config, clock: Clock | None = None) -> Orchestrator:
    """The core with every configured part; the scheduler ticks on `clock` (real by default)."""
    orchestrator = Orchestrator(config, build_services(config))
    if config.scheduler.enabled:
        from orchestrator.scheduling.setup import attach_scheduler

        attach_scheduler(orchestrator, clock)
    return orchestrator
