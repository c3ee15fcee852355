"""The running bot's heartbeat, so `orchestrator health` can tell a live process from a dead or
hung one (a worker has no web port for a platform to probe).

The beat comes from the event loop itself, so a loop blocked by a stuck call stops beating. It is
a small JSON file replaced atomically; a clean stop removes it, a crash leaves it to go stale.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.config import HealthSettings

log = logging.getLogger(__name__)

STALE_AFTER_BEATS = 3  # a missed beat or two is a busy moment, three is a dead process


def write_beat(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(partial, path)


async def beat_forever(settings: HealthSettings, status: Callable[[], dict[str, Any]]) -> None:
    """Write `{ts, pid, ...status()}` every `heartbeat_seconds` until cancelled, then remove it."""
    assert settings.heartbeat_path
    path = Path(settings.heartbeat_path)
    try:
        while True:
            try:
                write_beat(path, {"ts": time.time(), "pid": os.getpid(), **status()})
            except OSError as exc:
                log.warning("heartbeat_write_failed path=%s error=%s", path, type(exc).__name__)
            await asyncio.sleep(settings.heartbeat_seconds)
    finally:
        path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class BeatCheck:
    healthy: bool
    detail: str


def check_beat(settings: HealthSettings, now: float) -> BeatCheck:
    """Is a bot process beating? Missing, unreadable or stale (3 beats late) is unhealthy."""
    assert settings.heartbeat_path
    path = Path(settings.heartbeat_path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        age, pid = now - float(doc["ts"]), int(doc["pid"])
    except FileNotFoundError:
        return BeatCheck(False, f"no heartbeat at {path}: the bot process is not running")
    except (OSError, ValueError, KeyError, TypeError):
        return BeatCheck(False, f"unreadable heartbeat at {path}")
    if age > STALE_AFTER_BEATS * settings.heartbeat_seconds:
        return BeatCheck(False, f"pid {pid} last beat {age:.0f}s ago: hung or dead")
    servers = f", MCP servers up {doc['servers_up']}/{doc['servers']}" if "servers" in doc else ""
    return BeatCheck(True, f"pid {pid} beat {max(age, 0):.0f}s ago{servers}")
