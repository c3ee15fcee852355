"""`orchestrator schedule preview "<when>"` checks a phrase before scheduling with it;
`orchestrator schedule list` lists every schedule of every chat; `orchestrator schedule runs <id>`
lists a schedule's recent runs."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.cli.common import SubParsers, add_config_option, load_or_report
from orchestrator.config import Config


def add_schedule_parser(subparsers: SubParsers) -> None:
    """Register `schedule preview` on the main CLI's sub-commands."""
    schedule = subparsers.add_parser("schedule", help="scheduled workflows")
    sub = schedule.add_subparsers(dest="schedule_command", required=True)
    preview = sub.add_parser("preview", help="print the next run times of a when-phrase")
    preview.add_argument("when", help='e.g. "every monday at 9am" or "0 9 * * MON"')
    preview.add_argument("--tz", default="UTC", help="IANA timezone (default UTC)")
    preview.add_argument("--count", type=int, default=5, help="how many runs (default 5)")
    preview.add_argument("--from", dest="start", help="ISO time to count from (default now)")
    preview.add_argument("--describe", action="store_true", help="also print it in words")
    preview.set_defaults(func=cmd_preview)
    listing = sub.add_parser("list", help="list every schedule (all chats)")
    add_config_option(listing)
    listing.set_defaults(func=cmd_list)
    runs = sub.add_parser("runs", help="list a schedule's recent runs")
    runs.add_argument("id", help="schedule id (see /schedules)")
    add_config_option(runs)
    runs.set_defaults(func=cmd_runs)


def cmd_list(ns: argparse.Namespace) -> int:
    """One line per schedule of the configured store: id, chat, when, state, target, what."""
    config = load_or_report(ns.config)
    if config is None:
        return 2
    if not config.scheduler.enabled:
        print("the scheduler is disabled in this config (scheduler.enabled: false)")
        return 0
    print(asyncio.run(_list_text(config)))
    return 0


async def _list_text(config: Config) -> str:
    from orchestrator.scheduling.actions import schedule_line
    from orchestrator.scheduling.factory import make_schedule_store

    store = make_schedule_store(config.scheduler, config.sessions.url, config.sessions.key_prefix)
    try:
        schedules = await store.all()
    finally:
        await store.close()
    if not schedules:
        return "No schedules. Create one in a chat: /schedule every monday at 9am <what>"
    return "\n".join(f"{s.chat_key} {schedule_line(s)}" for s in schedules)


def cmd_runs(ns: argparse.Namespace) -> int:
    """Print a schedule's run history from the configured store; 2 when it does not exist."""
    from orchestrator.scheduling.errors import ScheduleError  # loaded by this command only

    config = load_or_report(ns.config)
    if config is None:
        return 2
    try:
        text = asyncio.run(_runs_text(config, ns.id))
    except ScheduleError as exc:
        print(str(exc).replace(" in this chat", ""), file=sys.stderr)
        return 2
    print(text)
    return 0


async def _runs_text(config: Config, schedule_id: str) -> str:
    from orchestrator.scheduling.actions import list_runs
    from orchestrator.scheduling.factory import make_schedule_store

    store = make_schedule_store(config.scheduler, config.sessions.url, config.sessions.key_prefix)
    try:
        return await list_runs(store, None, schedule_id)
    finally:
        await store.close()


def cmd_preview(ns: argparse.Namespace) -> int:
    """Print one ISO-8601 local time with UTC offset per line; exit 2 on a bad phrase."""
    # Imported here, not at the top: `orchestrator <other command>` never loads them.
    from orchestrator.scheduling.describe import describe
    from orchestrator.scheduling.errors import WhenParseError
    from orchestrator.scheduling.parse import parse_when
    from orchestrator.scheduling.when import next_runs

    try:
        tz = ZoneInfo(ns.tz)
    except (ZoneInfoNotFoundError, ValueError):
        print(
            f"unknown timezone {ns.tz!r}; use an IANA name such as Europe/London", file=sys.stderr
        )
        return 2
    try:
        start = datetime.fromisoformat(ns.start) if ns.start else datetime.now(UTC)
    except ValueError:
        print(
            f"--from {ns.start!r} is not an ISO-8601 time (e.g. 2026-03-28T10:00)", file=sys.stderr
        )
        return 2
    if start.tzinfo is None:
        start = start.replace(tzinfo=tz)
    if ns.count < 1:
        print("--count must be at least 1", file=sys.stderr)
        return 2
    try:
        when = parse_when(ns.when, tz, start)
    except WhenParseError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if ns.describe:
        print(f"# {describe(when)} ({tz.key})")
    for moment in next_runs(when, start, ns.count):
        print(moment.astimezone(tz).isoformat())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrator.cli.schedule")
    add_schedule_parser(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args(["schedule", *(argv if argv is not None else sys.argv[1:])])
    return int(ns.func(ns))


if __name__ == "__main__":
    sys.exit(main())
