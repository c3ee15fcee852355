"""What a running request is doing now, for a chat adapter's "Working on it" notice.

An adapter runs the core inside `Progress.track`; the agent loop says what it does next with
`report`, through a context variable, so nothing in between passes the watcher along, and a run
nobody watches (a schedule, a queue worker) reports into nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

THINKING = "thinking"

_current: ContextVar[Progress | None] = ContextVar("progress", default=None)


@dataclass
class Progress:
    """The latest step of one request: "thinking" or the tools it is running."""

    doing: str = ""

    async def track(self, work: Awaitable[T]) -> T:
        """Await `work` with this watcher current (tasks it starts inherit it)."""
        token = _current.set(self)
        try:
            return await work
        finally:
            _current.reset(token)


def report(doing: str) -> None:
    """Tell the watching adapter, if any, what the request does now."""
    progress = _current.get()
    if progress is not None:
        progress.doing = doing


def running(tools: list[str], shown: int = 3) -> str:
    """The words for tools being called: "running clickup/create_task, telegram/get_chat"; a
    long step names its first few: "running a/x, b/y, c/z and 4 more"."""
    names = list(dict.fromkeys(tools))
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return "running " + ", ".join(names[:shown]) + more
