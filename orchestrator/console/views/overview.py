"""Overview: each adapter, each MCP server (state, restarts, last error), Redis, the
scheduler, queue workers, and the recent errors of the audit trail."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis
from starlette.requests import Request
from starlette.responses import Response

from orchestrator.admin.audit_read import AuditFilter, read_audit
from orchestrator.config import Config
from orchestrator.console.pages import console_of, render, signed_in
from orchestrator.queue.keys import QueueKeys


async def redis_state(config: Config) -> dict[str, Any]:
    url = config.queue_url
    if not url:
        return {"configured": False}
    client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        started = time.monotonic()
        await client.ping()
        workers: Any = await client.zrange(f"{config.sessions.key_prefix}:q:workers", 0, -1)
        queued: list[int] = []
        if config.scale.mode == "distributed":  # jobs waiting per partition (XLEN: cheap)
            keys = QueueKeys(config.sessions.key_prefix, config.scale.partitions)
            for partition in range(config.scale.partitions):
                lanes = keys.lanes(partition)  # waiting answers count too
                queued.append(sum([int(await client.xlen(lane)) for lane in lanes]))
        return {
            "configured": True,
            "up": True,
            "ms": round((time.monotonic() - started) * 1000, 1),
            "workers": [w.decode() if isinstance(w, bytes) else str(w) for w in workers],
            "queued": queued,
        }
    except (OSError, aioredis.RedisError) as exc:
        return {"configured": True, "up": False, "error": type(exc).__name__}
    finally:
        await client.aclose()


def recent_errors(config: Config, limit: int = 10) -> list[dict[str, Any]]:
    since = time.time() - 86400
    records = read_audit(config, AuditFilter(since=since))
    failed = [r for r in records if str(r.get("outcome", "ok")) not in ("ok", "")]
    return list(reversed(failed[-limit:]))


async def overview(request: Request) -> Response:
    person = signed_in(request)
    host = console_of(request).host
    config = host.config
    scheduler = host.scheduler
    store = getattr(scheduler, "store", None)
    schedules = await store.all() if store is not None else []
    errors = await asyncio.to_thread(recent_errors, config)
    return render(
        request,
        "overview",
        person,
        adapters=sorted(host.adapters),
        servers=host.services.hub.status(),
        redis=await redis_state(config),
        scheduler={
            "enabled": config.scheduler.enabled and scheduler is not None,
            "store": config.scheduler.store,
            "count": len(schedules),
            "paused": sum(s.paused for s in schedules),
            "owner": getattr(scheduler, "owner", ""),
        },
        mode=config.scale.mode,
        errors=errors,
    )
