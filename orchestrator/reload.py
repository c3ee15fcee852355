"""Config reload (`/reload`, SIGHUP): validate first, then apply every section that can change
live and diff the tool servers, so only added, removed or changed servers start, stop or restart.

Live: LLM settings (a new client), limits, chat policies, admins, routing thresholds, memory
thresholds and retention, session bounds, logging level, the system prompt. Settings that only
take effect on a restart (bot tokens, storage back-ends, the scheduler, the audit sink) are
named as such in the reply; the running process keeps the old values for those.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from typing import Any, Protocol

from orchestrator.audit import audit
from orchestrator.config import Config, load_config
from orchestrator.errors import ConfigError
from orchestrator.redact import add_log_secrets
from orchestrator.services import AppHost, ReloadOutcome

log = logging.getLogger(__name__)

# Key paths whose change needs a restart; prefixes match whole sections.
RESTART_ONLY = (
    "bots.",
    "sessions.backend",
    "sessions.url",
    "sessions.key_prefix",
    "scheduler.",
    "audit.",
    "logging.format",
    "orchestrator.memory_system.type",
    "orchestrator.memory_system.url",
    "orchestrator.memory_system.persist_directory",
    "orchestrator.memory_system.embedding_model",
    "orchestrator.tool_routing.strategy",
    "tracing.",  # the process's tracer is set up once, at start
)


class RateLimits(Protocol):
    def set_rate(self, per_minute: int) -> None: ...


class ReloadHost(AppHost, Protocol):
    @property
    def rate_limits(self) -> RateLimits: ...


def changed_paths(old: Any, new: Any, prefix: str = "") -> Iterator[str]:
    """Dotted key paths whose values differ (a server is reported by name, not by field)."""
    if isinstance(old, dict) and isinstance(new, dict) and not prefix.startswith("mcp_servers."):
        for key in sorted(set(old) | set(new), key=str):
            yield from changed_paths(old.get(key), new.get(key), f"{prefix}{key}.")
    elif old != new:
        yield prefix.rstrip(".")


def needs_restart(path: str) -> bool:
    return any(path == p or path.startswith(p) for p in RESTART_ONLY)


async def reload_config(app: ReloadHost, trigger: str = "command") -> ReloadOutcome:
    """Re-read the config file and apply it; one log line and one audit record say how it went
    (`trigger`: command or sighup), and the text lists what changed or why it was refused."""
    try:
        new = load_config(app.config.source or None)
    except ConfigError as exc:
        reason = "; ".join(exc.problems)
        log.warning(
            "config_reload trigger=%s outcome=rejected problems=%d reason=%r",
            trigger,
            len(exc.problems),
            reason[:500],
        )
        audit("reload", outcome="rejected", detail=reason)
        text = "The new config is invalid; still running the old one:\n" + "\n".join(exc.problems)
        return ReloadOutcome(False, text)
    old = app.config
    paths = [p for p in changed_paths(old.model_dump(), new.model_dump()) if p]
    restart = [p for p in paths if needs_restart(p)]
    live = [p for p in paths if not needs_restart(p) and not p.startswith("mcp_servers")]
    add_log_secrets(new.secrets)  # before anything of the new config can reach a log line
    servers = await _apply_servers(app, new)
    _apply_live(app, old, new)
    app.config = new
    log.info(
        "config_reload trigger=%s outcome=applied live=%s restart_needed=%s servers=%s",
        trigger,
        ",".join(live) or "-",
        ",".join(restart) or "-",
        ",".join(f"{k}:{len(v)}" for k, v in servers.items()),
    )
    audit("reload", detail=",".join(live + restart)[:300])
    return ReloadOutcome(True, _reply(live, restart, servers))


async def _apply_servers(app: ReloadHost, new: Config) -> dict[str, list[str]]:
    hub = app.services.hub
    if new.mcp_servers == app.config.mcp_servers:
        return {}
    apply = getattr(hub, "apply", None)
    if apply is not None:
        return dict(await apply(new.mcp_servers))
    factory = app.services.hub_factory  # a hub that cannot diff: replace it whole
    if factory is None:
        return {}
    await hub.stop()
    app.services.hub = factory(new)
    await app.services.hub.start()
    return {"restarted": sorted(new.mcp_servers)}


def _apply_live(app: ReloadHost, old: Config, new: Config) -> None:
    services = app.services
    settings, before = new.orchestrator, old.orchestrator
    if settings.llm_settings != before.llm_settings and services.llm_factory is not None:
        previous = services.llm
        services.llm = services.llm_factory(settings.llm_settings)
        if previous is not None and hasattr(previous, "close"):
            _close_later(previous)
    if new.limits.messages_per_minute_per_user != old.limits.messages_per_minute_per_user:
        app.rate_limits.set_rate(new.limits.messages_per_minute_per_user)
    router = services.router
    if router is not None:
        for name in ("top_k", "threshold"):
            if hasattr(router, name):
                value = (
                    settings.tool_routing.top_k
                    if name == "top_k"
                    else settings.tool_routing.confidence_threshold
                )
                setattr(router, name, value)
    memory = services.memory
    if memory is not None and hasattr(memory, "settings"):
        kept = {"type", "url", "persist_directory", "embedding_model"}
        current = memory.settings
        memory.settings = current.model_copy(
            update={k: v for k, v in settings.memory_system.model_dump().items() if k not in kept}
        )
    if new.logging.level != old.logging.level:
        logging.getLogger().setLevel(new.logging.level)


def _close_later(client: Any) -> None:
    """Close a replaced LLM client once requests already using it have had time to finish."""

    async def close() -> None:
        await asyncio.sleep(120)
        with contextlib.suppress(Exception):
            await client.close()

    _keep(asyncio.get_running_loop().create_task(close()))


_tasks: set[asyncio.Task[Any]] = set()


def _keep(task: asyncio.Task[Any]) -> None:
    """Hold a reference to a background task until it ends (the loop keeps only weak ones)."""
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _reply(live: list[str], restart: list[str], servers: dict[str, list[str]]) -> str:
    if not (live or restart or any(servers.values())):
        return "Config reloaded: nothing changed."
    lines = ["Config reloaded."]
    if live:
        lines.append("Applied: " + ", ".join(live))
    for change in ("added", "removed", "restarted"):
        if servers.get(change):
            lines.append(f"Servers {change}: " + ", ".join(servers[change]))
    if restart:
        lines.append("Needs a restart to take effect: " + ", ".join(restart))
    return "\n".join(lines)


def install_sighup(app: ReloadHost) -> bool:
    """SIGHUP re-reads the config, as `/reload` does (main thread on Unix only)."""
    loop = asyncio.get_running_loop()

    def on_hup() -> None:
        _keep(loop.create_task(reload_config(app, trigger="sighup")))

    try:
        loop.add_signal_handler(signal.SIGHUP, on_hup)
    except (NotImplementedError, RuntimeError, ValueError, AttributeError):
        return False
    return True


def remove_sighup() -> None:
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
