"""Discord threads: a message in a thread is one conversation, answered in the thread.

Its chat is the parent channel, so the thread inherits the channel's policy and tool allow-list
(`chats.discord:<channel>`), while its session, memory and ordering follow the thread (the core's
`conversation_key`). A thread archived and locked, or deleted, while the bot works refuses the
answer (Discord error 50083 or 10003): the answer then goes to the parent channel after a line
that says why, so nothing is lost.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

log = logging.getLogger(__name__)

ARCHIVED_THREAD = 50083  # "Thread is archived": locked, or archived where the bot cannot reopen
UNKNOWN_CHANNEL = 10003  # the thread was deleted


def conversation_of(channel: Any) -> tuple[str, str | None]:
    """(chat id, thread id) of a channel: a thread's chat is its parent channel."""
    if isinstance(channel, discord.Thread):
        return str(channel.parent_id), str(channel.id)
    return str(getattr(channel, "id", "")), None


def thread_refused(exc: discord.HTTPException) -> str | None:
    """Why a thread refused a send ("archived", "deleted"), or None for any other failure."""
    if exc.code == ARCHIVED_THREAD:
        return "archived"
    if exc.code == UNKNOWN_CHANNEL:
        return "deleted"
    return None


def gone_text(name: str, reason: str) -> str:
    where = f"the thread **{name}**" if name else "the thread this request came from"
    if reason == "archived":
        return f"I could not answer in {where}: it is archived and locked. Here is the answer."
    return f"I could not answer in {where}: it was deleted. Here is the answer."
