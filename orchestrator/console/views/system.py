"""Usage (tokens per day by chat, user and model from the day counters every process adds
to, with cost from `dashboard.prices`), servers (tools with their annotations; restart one)
and the doctor."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from orchestrator.admin.budgets import HISTORY_DAYS, MemoryCounters, RedisCounters, TokenBudgets
from orchestrator.admin.doctor.base import exit_code
from orchestrator.admin.doctor.runner import diagnose
from orchestrator.console.pages import acting, audited, back, console_of, render, signed_in
from orchestrator.mcp.base import ServerStatus

VERDICT = {0: "All checks passed.", 1: "Warnings found.", 2: "Problems found."}


async def _counters(budgets: TokenBudgets | None) -> dict[str, int]:
    counters = budgets.counters if budgets is not None else None
    if isinstance(counters, MemoryCounters):
        return dict(counters._counts)  # noqa: SLF001 - the same module family's own store
    if isinstance(counters, RedisCounters):
        head = f"{counters.prefix}:"
        keys = [k async for k in counters.client.scan_iter(match=f"{head}*", count=500)]
        values = await counters.client.mget(keys) if keys else []
        return {
            (k.decode() if isinstance(k, bytes) else k)[len(head) :]: int(v or 0)
            for k, v in zip(keys, values, strict=True)
        }
    return {}


async def usage(request: Request) -> Response:
    person = signed_in(request)
    counts = await _counters(console_of(request).host.services.budgets)
    prices = console_of(request).host.config.dashboard.prices
    rows: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    for key, tokens in counts.items():
        scope, _, rest = key.partition(":")
        who, _, day = rest.rpartition(":")
        if scope == "model":
            cost = tokens / 1e6 * prices[who] if who in prices else None
            models.append({"day": day, "model": who, "tokens": tokens, "cost": cost})
        else:
            rows.append({"scope": scope, "who": who, "day": day, "tokens": tokens})
    rows.sort(key=lambda r: (r["day"], r["scope"], r["tokens"]), reverse=True)
    models.sort(key=lambda r: (r["day"], r["tokens"]), reverse=True)
    return render(request, "usage", person, rows=rows, models=models, days=HISTORY_DAYS)


async def servers(request: Request) -> Response:
    person = signed_in(request)
    hub = console_of(request).host.services.hub
    tools: dict[str, list[Any]] = {}
    for spec in hub.catalogue():
        tools.setdefault(spec.server, []).append(spec)
    return render(request, "servers", person, statuses=hub.status(), tools=tools)


async def server_restart(request: Request) -> Response:
    person, _form = await acting(request)
    name = request.path_params["name"]
    hub = console_of(request).host.services.hub
    connection = getattr(hub, "connections", {}).get(name)
    if connection is None:
        raise HTTPException(404)
    restart = getattr(connection, "restart", None)
    if restart is None:
        return back(request, "/dashboard/servers", "This hub cannot restart one server.")
    restart()
    audited(person, "server_restart", name)
    return back(request, "/dashboard/servers", f"Restarting {name}.")


async def doctor(request: Request) -> Response:
    person = signed_in(request)
    host = console_of(request).host

    async def statuses() -> list[ServerStatus]:
        return host.services.hub.status()

    findings = await diagnose(host.config, statuses, host.schedule_targets)
    return render(
        request, "doctor", person, findings=findings, verdict=VERDICT[exit_code(findings)]
    )
