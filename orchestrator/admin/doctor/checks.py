"""The platform-free checks: config file, LLM, MCP servers, Redis, Chroma, schedule targets."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import urllib.request
from collections.abc import Collection, Sequence
from pathlib import Path

from orchestrator.admin.doctor.base import Finding, ScheduleTarget, fail, ok, warn
from orchestrator.config import Config, LLMSettings, load_config
from orchestrator.errors import ConfigError
from orchestrator.mcp.base import ServerStatus

SLOW_REDIS_MS = 50  # best PING round trip on an open connection

PING_TOOL = {
    "type": "function",
    "function": {
        "name": "doctor_ping",
        "description": "Health check; never needs to be called.",
        "parameters": {"type": "object", "properties": {}},
    },
}


def check_config_file(path: str | None) -> list[Finding]:
    """The file on disk validates (so /reload would accept it)."""
    try:
        config = load_config(path or None)
    except ConfigError as exc:
        return [
            fail("config", problem, "fix this line, then /reload") for problem in exc.problems[:10]
        ]
    return [ok("config", f"{config.source} is valid")]


async def check_llm(settings: LLMSettings) -> list[Finding]:
    """One tiny completion that offers a tool: reachable, key accepted, model takes tools."""
    if not settings.configured:
        return [
            warn(
                "llm",
                "no language model configured (free text gets tool suggestions only)",
                "set OPENAI_API_KEY, or orchestrator.llm_settings.base_url for a local server",
            )
        ]
    import openai  # about 1.2 s of imports: only when a model is configured

    client = openai.AsyncOpenAI(
        api_key=settings.api_key or "not-needed",
        base_url=settings.base_url or None,
        timeout=min(settings.timeout_seconds, 15),
        max_retries=0,
    )
    where = settings.base_url or "api.openai.com"
    try:
        await client.chat.completions.create(
            model=settings.model,
            messages=[{"role": "user", "content": "Reply with OK."}],
            tools=[PING_TOOL],  # type: ignore[list-item]
            max_tokens=5,
        )
    except openai.AuthenticationError:
        return [fail("llm", f"{where} rejected the API key", "check OPENAI_API_KEY / api_key")]
    except openai.NotFoundError:
        return [
            fail(
                "llm",
                f"{where} does not know model {settings.model!r}",
                "set orchestrator.llm_settings.model to a model the server serves",
            )
        ]
    except openai.BadRequestError as exc:
        if "tool" in str(exc).lower():
            return [
                fail(
                    "llm",
                    f"model {settings.model!r} does not accept tools",
                    "pick a model with function calling (e.g. gpt-4o-mini, qwen2.5, llama3.1)",
                )
            ]
        return [fail("llm", f"{where} answered 400: {str(exc)[:120]}", "check llm_settings")]
    except openai.APIStatusError as exc:
        return [
            fail("llm", f"{where} answered HTTP {exc.status_code}", "check the LLM server's logs")
        ]
    except openai.APIError:
        return [
            fail(
                "llm",
                f"cannot reach {where}",
                "check orchestrator.llm_settings.base_url and that the server is running",
            )
        ]
    finally:
        await client.close()
    return [ok("llm", f"{settings.model} at {where} answers and accepts tools")]


def hub_findings(statuses: Sequence[ServerStatus]) -> list[Finding]:
    """Each MCP server: up with its tool count, or down with its last error."""
    if not statuses:
        return [ok("mcp", "no tool servers configured")]
    found = []
    for s in statuses:
        name = f"mcp {s.name}"
        if s.state == "disabled":
            found.append(ok(name, "disabled in the config"))
        elif s.state != "up":
            error = s.last_error or s.state
            found.append(
                fail(
                    name,
                    f"{s.state}: {error} (restarts: {s.restarts})",
                    f"check mcp_servers.{s.name} (command, args, env); "
                    f"`orchestrator tools --server {s.name}` shows the error",
                )
            )
        elif s.tool_count == 0:
            found.append(warn(name, "up but lists no tools", "check the server's own config"))
        else:
            extra = f", last error: {s.last_error}" if s.last_error else ""
            found.append(ok(name, f"up, {s.tool_count} tools, {s.restarts} restarts{extra}"))
    return found


def redis_urls(config: Config) -> str | None:
    uses = config.sessions.backend == "redis" or config.scheduler.store == "redis"
    return config.sessions.url if uses else None


def redis_round_trip_ms(url: str, pings: int = 5) -> float:
    """The best of `pings` PINGs on an open connection, as `orchestrator health` sees Redis.

    Run in a thread with a blocking client: the other checks run at the same time and some
    hold the event loop (the openai import takes about a second), which an async PING would
    count; connecting is done before timing, as a running bot's pool already is."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()  # connects
        best = float("inf")
        for _ in range(pings):
            started = time.perf_counter()
            client.ping()
            best = min(best, (time.perf_counter() - started) * 1000)
        return best
    finally:
        client.close()


async def check_redis(config: Config) -> list[Finding]:
    url = redis_urls(config)
    if url is None:
        if config.sessions.backend == "redis" or config.scheduler.store == "redis":
            return [fail("redis", "Redis is selected but sessions.url is empty", "set REDIS_URL")]
        return [ok("redis", "not used (in-process sessions, file schedules)")]
    try:
        ms = await asyncio.to_thread(redis_round_trip_ms, url)
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        return [
            fail(
                "redis",
                f"cannot reach Redis ({type(exc).__name__})",
                "start Redis or fix sessions.url (REDIS_URL); sessions and schedules need it",
            )
        ]
    detail = f"reachable, round trip {ms:.1f} ms"
    if ms < SLOW_REDIS_MS:
        return [ok("redis", detail)]
    return [warn("redis", detail, "Redis is slow; check its host/network")]


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            return os.access(directory, os.W_OK)
    except OSError:
        return False


def _heartbeat(url: str) -> bool:
    base = url.rstrip("/")
    for path in ("/api/v2/heartbeat", "/api/v1/heartbeat"):
        try:
            with urllib.request.urlopen(base + path, timeout=3) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except OSError:
            continue
    return False


async def check_chroma(config: Config) -> list[Finding]:
    memory = config.orchestrator.memory_system
    if memory.type == "none":
        return [ok("memory", "off (memory_system.type: none)")]
    if memory.url:
        if await asyncio.to_thread(_heartbeat, memory.url):
            return [ok("memory", f"Chroma server at {memory.url} answers")]
        return [
            fail(
                "memory",
                f"Chroma server at {memory.url} does not answer",
                "start the Chroma server or fix memory_system.url",
            )
        ]
    directory = Path(memory.persist_directory)
    if await asyncio.to_thread(_writable, directory):
        return [ok("memory", f"Chroma directory {directory} is writable")]
    return [
        fail(
            "memory",
            f"Chroma directory {directory} is not writable",
            "fix memory_system.persist_directory or its permissions",
        )
    ]


def schedule_findings(
    targets: Sequence[ScheduleTarget],
    reachable_platforms: Collection[str],
    deployable_platforms: Collection[str] = ("telegram", "discord"),
) -> list[Finding]:
    """Schedules posting to a platform this deployment cannot post to.

    Only a platform a deployment posts to through a token (one with a doctor check and a
    sender) can be missing; a console schedule posts to whoever runs `orchestrator chat`."""
    found: list[Finding] = []
    local = 0
    for t in targets:
        if t.platform not in deployable_platforms:
            local += 1
        elif t.platform not in reachable_platforms:
            found.append(
                fail(
                    "schedules",
                    f"schedule {t.schedule_id} posts to {t.platform}:{t.chat_id}, "
                    f"but {t.platform} is not connected",
                    f"configure bots.{t.platform}.token, or move it: /unschedule {t.schedule_id}",
                )
            )
    if not found:
        note = f" ({local} post to the console while `orchestrator chat` runs)" if local else ""
        found.append(
            ok("schedules", f"{len(targets)} schedule(s), every target platform is up{note}")
        )
    return found


def platform_targets(targets: Sequence[ScheduleTarget], platform: str) -> list[str]:
    return sorted({t.chat_id for t in targets if t.platform == platform})
