"""Start and stop a running core: the parts it talks to, the process's own extras (its web
server: started last, stopped first) and the background tasks (scheduler, memory retention,
heartbeat)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from orchestrator import metrics, tracing
from orchestrator.admin.heartbeat import beat_forever
from orchestrator.queue.base import JobQueue
from orchestrator.recollection import open_memory, prune_forever, warm_embedder
from orchestrator.reload import ReloadHost, install_sighup, remove_sighup
from orchestrator.scheduling.base import SchedulerLoop


class Running(ReloadHost, Protocol):
    scheduler: SchedulerLoop | None
    queue: JobQueue | None
    on_start: list[Callable[[], Awaitable[None]]]
    on_stop: list[Callable[[], Awaitable[None]]]


async def start(app: Running, background: list[asyncio.Task[None]]) -> None:
    services = app.services
    tracing.configure(app.config.tracing)  # a no-op unless `tracing.enabled` (issue 33)
    # The encoders load and the memory store opens while the MCP servers start: ready
    # means answerable without a first-message delay.
    await asyncio.gather(
        services.hub.start(), warm_embedder(services.embedder), open_memory(services.memory)
    )
    install_sighup(app)
    metrics.watch_servers(lambda: app.services.hub.status())  # the hub a reload swapped in
    for hook in app.on_start:
        await hook()
    if app.scheduler is not None and app.config.scheduler.enabled:
        background.append(asyncio.create_task(app.scheduler.run_forever()))
    if services.memory is not None and hasattr(services.memory, "prune"):
        background.append(asyncio.create_task(prune_forever(services.memory)))
    if app.config.health.heartbeat_path:
        beat = beat_forever(app.config.health, lambda: heartbeat_status(app))
        background.append(asyncio.create_task(beat))


def heartbeat_status(app: Running) -> dict[str, int]:
    statuses = app.services.hub.status()
    return {"servers": len(statuses), "servers_up": sum(s.state == "up" for s in statuses)}


async def stop(app: Running, background: list[asyncio.Task[None]]) -> None:
    remove_sighup()
    for hook in reversed(app.on_stop):
        await hook()
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    if app.scheduler is not None:
        await app.scheduler.close()
    services = app.services
    await services.hub.stop()
    if services.memory is not None:
        await services.memory.close()  # writes the memories still waiting
    await services.sessions.close()
    if services.budgets is not None:
        await services.budgets.close()
    if services.delivery is not None:
        await services.delivery.close()
    await app.conversation.close()
    if services.oauth is not None:
        await services.oauth.close()
    if app.queue is not None:
        await app.queue.close()
    llm = services.llm
    if llm is not None and hasattr(llm, "close"):
        await llm.close()
    tracing.flush()  # the spans still batched
