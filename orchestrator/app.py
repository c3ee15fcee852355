"""Wiring: build the real parts named in the config and hand them to the core.

The only module that imports the seams' implementations; the core sees their Protocols.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as aioredis

from orchestrator.admin.budgets import MeteredLLM, RedisCounters, TokenBudgets
from orchestrator.clock import Clock
from orchestrator.config import Config, LLMSettings
from orchestrator.context.factory import make_context_store
from orchestrator.core import Orchestrator
from orchestrator.delivery.factory import make_delivery_store
from orchestrator.embedding.lazy import LazyEmbedder
from orchestrator.identity.factory import build_gate
from orchestrator.identity.gate import OAuthGate
from orchestrator.identity.notify import chat_notifier
from orchestrator.identity.people import oauth_connections, refused_connections
from orchestrator.identity.vault_base import TokenKeyMissing
from orchestrator.llm.base import LLM
from orchestrator.mcp.hub import ConnectionFactory, McpHub
from orchestrator.memory.factory import make_memory_store
from orchestrator.queue.base import ReplySender
from orchestrator.queue.keys import QueueKeys
from orchestrator.queue.outbox import RedisOutbox
from orchestrator.queue.producer import RedisJobQueue
from orchestrator.queue.reactions import job_reactions
from orchestrator.queue.scheduled import queued_runner
from orchestrator.queue.worker import Worker
from orchestrator.routing.router import ToolRouter
from orchestrator.scheduling.setup import attach_scheduler
from orchestrator.services import Services
from orchestrator.sessions.factory import make_session_store


def build_llm(settings: LLMSettings) -> LLM | None:
    """The configured LLM, metered for token budgets; None when none is configured."""
    if not settings.configured:
        return None
    # openai (about 1.2 s of imports) loads only when a model is configured.
    from orchestrator.llm.openai_client import OpenAICompatibleLLM

    return MeteredLLM(OpenAICompatibleLLM(settings))


def build_budgets(config: Config, clock: Clock | None = None) -> TokenBudgets:
    """Token counters shared through Redis when sessions use it, else in this process."""
    sessions = config.sessions
    if sessions.backend == "redis" and sessions.url:
        # Named, so `CLIENT LIST` tells its connections from the sessions' ones.
        client = aioredis.Redis.from_url(sessions.url, client_name=f"{sessions.key_prefix}:budgets")
        return TokenBudgets(RedisCounters(client, sessions.key_prefix), clock)
    return TokenBudgets(clock=clock)


def build_oauth(config: Config) -> tuple[OAuthGate | None, ConnectionFactory | None]:
    """The OAuth gate and the hub's factory for servers behind OAuth (issue 32). Without a
    token key those servers stay down with the reason; the rest of the bot runs."""
    try:
        gate = build_gate(config)
    except TokenKeyMissing as exc:
        return None, refused_connections(str(exc))
    return gate, oauth_connections(gate) if gate is not None else None


def build_hub(config: Config) -> McpHub:
    """The hub alone (CLI commands): OAuth servers with their stored sign-ins."""
    return McpHub(config.mcp_servers, build_oauth(config)[1])


def build_services(config: Config, clock: Clock | None = None) -> Services:
    settings = config.orchestrator
    gate, oauth = build_oauth(config)
    llm = build_llm(settings.llm_settings)
    memory = make_memory_store(settings.memory_system)
    semantic = settings.tool_routing.strategy == "semantic"
    # Semantic routing fuses MiniLM with a multilingual encoder; memory keeps MiniLM's part.
    embedder = LazyEmbedder(multilingual=semantic) if (memory is not None or semantic) else None
    router = None
    if semantic and embedder is not None:
        router = ToolRouter(
            embedder,
            top_k=settings.tool_routing.top_k,
            threshold=settings.tool_routing.confidence_threshold,
        )
    return Services(
        hub=McpHub(config.mcp_servers, oauth),
        sessions=make_session_store(config.sessions, bot=settings.name),
        llm=llm,
        embedder=embedder,
        memory=memory,
        router=router,
        hub_factory=lambda c: McpHub(c.mcp_servers, oauth),
        delivery=make_delivery_store(config),
        llm_factory=build_llm,
        budgets=build_budgets(config, clock),
        context=make_context_store(config),
        oauth=gate,
    )


def build_orchestrator(config: Config, clock: Clock | None = None) -> Orchestrator:
    """The core with every configured part; the scheduler ticks on `clock` (real by default).

    With `scale.mode: distributed`, scheduled runs are queued for workers, and a front end
    (`scale.role: frontend`) queues every message instead of answering it."""
    orchestrator = Orchestrator(config, build_services(config, clock))
    if orchestrator.services.oauth is not None:  # sign-in links by private message
        orchestrator.services.oauth.notify = chat_notifier(
            lambda: orchestrator.adapters, orchestrator.post
        )
    queue = build_job_queue(config) if config.scale.mode == "distributed" else None
    if queue is not None and config.scale.role == "frontend":
        orchestrator.queue = queue
    if config.scheduler.enabled:
        attach_scheduler(orchestrator, clock, queued_runner(queue) if queue else None)
    if config.http is not None:  # /healthz, /metrics and the console (issue 33)
        from orchestrator.web.routes import attach_web

        attach_web(orchestrator)
    return orchestrator


def queue_keys(config: Config) -> QueueKeys:
    return QueueKeys(config.sessions.key_prefix, config.scale.partitions)


def queue_client(config: Config) -> aioredis.Redis:
    return aioredis.Redis.from_url(config.queue_url or "redis://127.0.0.1:6379/0")


def build_job_queue(config: Config) -> RedisJobQueue:
    return RedisJobQueue(queue_client(config), queue_keys(config), config.scale.dedupe_ttl_seconds)


def build_worker(
    config: Config,
    orchestrator: Orchestrator,
    senders: Mapping[str, ReplySender],
    client: aioredis.Redis,
    name: str | None = None,
) -> Worker:
    """A queue worker answering with `orchestrator` and posting through `senders`."""
    keys = queue_keys(config)
    outbox = RedisOutbox(client, keys, config.scale.dedupe_ttl_seconds)
    after_post = job_reactions(lambda: orchestrator.config, senders)  # ✅ / ❌ (issue 31)
    return Worker(
        client, keys, config.scale, orchestrator.handle, senders, outbox, name, after_post
    )
