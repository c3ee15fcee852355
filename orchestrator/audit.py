"""The audit trail's write side: one record per tool call, approval, admin command, reload and
schedule change, emitted on the `orchestrator.audit` logger.

Any module may call `audit(...)`; where the records go (a rotating file, a Redis stream) is the
logging handler `orchestrator.admin.audit_sink` installs, so this module stays a leaf with no
dependency on either. Who asked (platform, chat, user) comes from the request being handled,
bound once per message by the core, so deep callers such as the MCP hub need not be told.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

AUDIT_LOGGER = "orchestrator.audit"
log = logging.getLogger(AUDIT_LOGGER)
log.propagate = False  # the trail has its own handler; stderr keeps the operational lines
log.setLevel(logging.INFO)


@dataclass(frozen=True, slots=True)
class Requester:
    """Who a piece of work is for: the message being handled."""

    platform: str = ""
    chat_id: str = ""
    user_id: str = ""


NOBODY = Requester()  # frozen: safe to share as the default
_requester: ContextVar[Requester] = ContextVar("audit_requester", default=NOBODY)  # noqa: B039
_tools_used: ContextVar[list[str] | None] = ContextVar("audit_tools_used", default=None)


def bind_requester(platform: str, chat_id: str, user_id: str) -> None:
    """Name the requester for the rest of this task (and the tasks it starts)."""
    _requester.set(Requester(platform, chat_id, user_id))


def current_requester() -> Requester:
    return _requester.get()


@contextmanager
def tracking_tools() -> Iterator[list[str]]:
    """Collect the `server/tool` keys of every tool call made inside the block (and its tasks)."""
    used: list[str] = []
    token = _tools_used.set(used)
    try:
        yield used
    finally:
        _tools_used.reset(token)


def audit(
    action: str,
    *,
    outcome: str = "ok",
    tool: str = "",
    arguments: Mapping[str, Any] | None = None,
    duration_ms: float | None = None,
    detail: str = "",
    platform: str | None = None,
    chat_id: str | None = None,
    user_id: str | None = None,
) -> None:
    """Write one audit record. Argument values are never recorded, only their keys."""
    who = _requester.get()
    record = {
        "ts": time.time(),
        "action": action,
        "platform": who.platform if platform is None else platform,
        "chat": who.chat_id if chat_id is None else chat_id,
        "user": who.user_id if user_id is None else user_id,
        "tool": tool,
        "arg_keys": sorted(arguments or ()),
        "outcome": outcome,
        "duration_ms": None if duration_ms is None else round(duration_ms, 1),
        "detail": detail[:300],
    }
    if action == "tool_call" and tool:
        used = _tools_used.get()
        if used is not None:
            used.append(tool)
    log.info("audit action=%s outcome=%s", action, outcome, extra={"audit": record})
