"""`orchestrator doctor [--config FILE]`: every check, each non-ok with its fix; exit 0, 1 or 2."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from orchestrator.cli.common import SubParsers, add_config_option, config_path
from orchestrator.config import Config, load_config
from orchestrator.errors import ConfigError
from orchestrator.redact import Redactor

if TYPE_CHECKING:
    from orchestrator.admin.doctor.base import Finding, ScheduleTarget
    from orchestrator.mcp.base import ServerStatus


def add_doctor_parser(sub: SubParsers) -> None:
    doctor = sub.add_parser("doctor", help="check every part; say why the bot is silent")
    add_config_option(doctor)
    doctor.set_defaults(func=cmd_doctor)


def cmd_doctor(ns: argparse.Namespace) -> int:
    # Imported here, not at the top: `orchestrator <other command>` never loads them.
    from orchestrator.admin.doctor.base import exit_code, format_report

    findings = asyncio.run(run_doctor(ns.config))
    print(format_report(findings))
    return exit_code(findings)


async def run_doctor(path: str | None) -> list[Finding]:
    from orchestrator.admin.doctor.base import fail
    from orchestrator.admin.doctor.runner import diagnose
    from orchestrator.app import build_hub

    try:
        config = load_config(config_path(path))
    except ConfigError as exc:
        return [fail("config", p, "fix this line and run doctor again") for p in exc.problems]
    hub = build_hub(config)

    async def statuses() -> Sequence[ServerStatus]:
        await hub.start()
        return hub.status()

    redact = Redactor(config.secrets)
    try:
        findings = await diagnose(config, statuses, lambda: schedule_targets(config))
    finally:
        await hub.stop()
    return [replace(f, detail=redact(f.detail), fix=redact(f.fix)) for f in findings]


async def schedule_targets(config: Config) -> list[ScheduleTarget]:
    from orchestrator.admin.doctor.base import ScheduleTarget
    from orchestrator.scheduling.factory import make_schedule_store

    if not config.scheduler.enabled:
        return []
    try:
        store = make_schedule_store(
            config.scheduler, config.sessions.url, config.sessions.key_prefix
        )
    except ConfigError:
        return []
    try:
        return [
            ScheduleTarget(s.id, s.target_platform, s.target_chat_id) for s in await store.all()
        ]
    except Exception:  # noqa: BLE001 - the Redis check reports an unreachable store
        return []
    finally:
        await store.close()


if __name__ == "__main__":
    sys.exit(cmd_doctor(argparse.Namespace(config=None)))
