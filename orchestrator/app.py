"""Wiring: build the real parts named in the config and hand them to the core.

The only module that imports the seams' implementations; the core sees their Protocols.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from orchestrator.admin.budgets import MeteredLLM, RedisCounters, TokenBudgets
from orchestrator.clock import Clock
from orchestrator.config import Config, LLMSettings
from orchestrator.core import Orchestrator
from orchestrator.delivery.factory import make_delivery_store
from orchestrator.embedding.lazy import LazyEmbedder
from orchestrator.llm.base import LLM
from orchestrator.llm.openai_client import OpenAICompatibleLLM
from orchestrator.mcp.hub import McpHub
from orchestrator.memory.factory import make_memory_store
from orchestrator.routing.router import ToolRouter
from orchestrator.scheduling.setup import attach_scheduler
from orchestrator.services import Services
from orchestrator.sessions.factory import make_session_store


def build_llm(settings: LLMSettings) -> LLM | None:
    """The configured LLM, metered for token budgets; None when none is configured."""
    return MeteredLLM(OpenAICompatibleLLM(settings)) if settings.configured else None


def build_budgets(config: Config, clock: Clock | None = None) -> TokenBudgets:
    """Token counters shared through Redis when sessions use it, else in this process."""
    sessions = config.sessions
    if sessions.backend == "redis" and sessions.url:
        client = aioredis.Redis.from_url(sessions.url)
        return TokenBudgets(RedisCounters(client, sessions.key_prefix), clock)
    return TokenBudgets(clock=clock)


def build_services(config: Config, clock: Clock | None = None) -> Services:
    settings = config.orchestrator
    llm = build_llm(settings.llm_settings)
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
        llm_factory=build_llm,
        budgets=build_budgets(config, clock),
    )


def build_orchestrator(config: Config, clock: Clock | None = None) -> Orchestrator:
    """The core with every configured part; the scheduler ticks on `clock` (real by default)."""
    orchestrator = Orchestrator(config, build_services(config, clock))
    if config.scheduler.enabled:
        attach_scheduler(orchestrator, clock)
    return orchestrator
