"""Wiring: build the real parts named in the config and hand them to the core.

The only module that imports the seams' implementations; the core sees their Protocols.
"""

from __future__ import annotations

from orchestrator.clock import Clock
from orchestrator.config import Config
from orchestrator.core import Orchestrator
from orchestrator.delivery.factory import make_delivery_store
from orchestrator.embedding.lazy import LazyEmbedder
from orchestrator.llm.openai_client import OpenAICompatibleLLM
from orchestrator.mcp.hub import McpHub
from orchestrator.memory.factory import make_memory_store
from orchestrator.routing.router import ToolRouter
from orchestrator.scheduling.setup import attach_scheduler
from orchestrator.services import Services
from orchestrator.sessions.factory import make_session_store


def build_services(config: Config) -> Services:
    settings = config.orchestrator
    llm = OpenAICompatibleLLM(settings.llm_settings) if settings.llm_settings.configured else None
    memory = make_memory_store(settings.memory_system)
    semantic = settings.tool_routing.strategy == "semantic"
    embedder = LazyEmbedder() if (memory is not None or semantic) else None
    router = None
    if semantic and embedder is not None:
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
        hub_factory=McpHub.from_config,
        delivery=make_delivery_store(config),
    )


def build_orchestrator(config: Config, clock: Clock | None = None) -> Orchestrator:
    """The core with every configured part; the scheduler ticks on `clock` (real by default)."""
    orchestrator = Orchestrator(config, build_services(config))
    if config.scheduler.enabled:
        attach_scheduler(orchestrator, clock)
    return orchestrator
