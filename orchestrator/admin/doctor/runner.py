"""Assemble the checks for one deployment and run them (the CLI and `/doctor` share this).

Chat platforms check themselves: `bots/` registers one check per platform under the
`orchestrator.doctor` entry point group, so this package never imports a platform library.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from importlib.metadata import entry_points

from orchestrator.admin.doctor.base import (
    Check,
    Finding,
    ScheduleTarget,
    TargetLister,
    ok,
    run_checks,
)
from orchestrator.admin.doctor.checks import (
    check_chroma,
    check_config_file,
    check_llm,
    check_redis,
    hub_findings,
    platform_targets,
    schedule_findings,
)
from orchestrator.admin.doctor.oauth import check_oauth
from orchestrator.admin.doctor.transcription import check_transcription
from orchestrator.config import Config
from orchestrator.mcp.base import ServerStatus

GROUP = "orchestrator.doctor"
PlatformCheck = Callable[[Config, Sequence[str]], Awaitable[list[Finding]]]


def configured_platforms(config: Config) -> list[str]:
    bots = config.bots
    return [name for name, s in (("telegram", bots.telegram), ("discord", bots.discord)) if s.token]


def platform_checks() -> dict[str, PlatformCheck]:
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


async def diagnose(
    config: Config,
    statuses: Callable[[], Awaitable[Sequence[ServerStatus]]],
    schedule_targets: TargetLister | None = None,
    *,
    platforms: dict[str, PlatformCheck] | None = None,
) -> list[Finding]:
    """Every check for `config`; `statuses` reports the MCP servers (a running or a fresh hub)."""
    targets: list[ScheduleTarget] = []
    if schedule_targets is not None and config.scheduler.enabled:
        targets = await schedule_targets()
    known = platform_checks() if platforms is None else platforms
    configured = configured_platforms(config)

    async def config_file() -> list[Finding]:
        return check_config_file(config.source or None)

    async def servers() -> list[Finding]:
        return hub_findings(await statuses())

    async def schedules() -> list[Finding]:
        if not config.scheduler.enabled:
            return [ok("schedules", "scheduler disabled")]
        return schedule_findings(targets, configured, deployable_platforms=known)

    checks: list[tuple[str, Check]] = [
        ("config", config_file),
        ("llm", partial(check_llm, config.orchestrator.llm_settings)),
        ("mcp", servers),
        ("redis", partial(check_redis, config)),
        ("memory", partial(check_chroma, config)),
        ("transcription", partial(check_transcription, config)),  # files and voice (issue 31)
        ("oauth", partial(check_oauth, config)),  # sign-ins to MCP servers (issue 32)
    ]
    for name in ("telegram", "discord"):
        if name not in configured:
            checks.append((name, partial(_not_configured, name)))
        elif name in known:
            checks.append((name, partial(known[name], config, platform_targets(targets, name))))
    checks.append(("schedules", schedules))
    return await run_checks(checks, timeout_seconds=75)


async def _not_configured(name: str) -> list[Finding]:
    return [ok(name, "not configured")]
