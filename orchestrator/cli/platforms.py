"""Chat platforms are plugins: `bots/` registers each under the `orchestrator.platforms` entry
point group (pyproject.toml), so the core never imports `bots` (errbot's backends, the same way).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points

from orchestrator.config import Config

GROUP = "orchestrator.platforms"
log = logging.getLogger(__name__)

PlatformRunner = Callable[[Config], int]


def platform_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def run_platform(name: str, config: Config) -> int:
    """Run the named platform's adapter until it stops; 2 when it is not installed."""
    found = entry_points(group=GROUP, name=name)
    if not found:
        log.error("platform_not_installed platform=%s hint=run make install", name)
        return 2
    runner: PlatformRunner = next(iter(found)).load()
    return int(runner(config))
