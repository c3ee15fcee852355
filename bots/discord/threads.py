"""Discord threads: a message in a thread is one conversation, answered in the thread.

Its chat is the parent channel, so the thread inherits the channel's policy and tool allow-list
(`chats.discord:<channel>`), while its session, memory and ordering follow the thread (the core's
`conversation_key`). A thread archived and locked, or deleted, while the bot works refuses the
answer (Discord error 50083 or 10003): the answer then goes to the parent channel after a line
that says why, so nothing is lost.

Optional per channel (`chats.discord:<id>.open_threads: true`): an answer longer than one
message, or a plan waiting for approval, opens a thread on the asking message, named after the
request, and is posted there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import discord

from orchestrator.messages import Reply, ReplyKind

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


# -- optional per channel: long answers and plans open a thread (`chats.<key>.open_threads`) ----
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
THREAD_NAME_LIMIT = 100


def thread_name(request: str) -> str:
    """The request's first line, as Discord allows a thread name (1-100 characters)."""
    line = " ".join(request.strip().splitlines()[0].split()) if request.strip() else ""
    line = line.lstrip("/") or "Answer"
    return line if len(line) <= THREAD_NAME_LIMIT else line[: THREAD_NAME_LIMIT - 1] + "…"


def wants_thread(
    channel: Any, replies: Sequence[Reply], parts: Callable[[Reply], list[str]]
) -> bool:
    """A plan waiting for approval, or an answer in more than one message, in a text channel."""
    if not isinstance(channel, discord.TextChannel):
        return False
    answers = [r for r in replies if r.kind is ReplyKind.ANSWER]
    return any(r.choices for r in replies) or sum(len(parts(r)) for r in answers) > 1


async def open_thread(
    channel: discord.TextChannel, message_id: int, request: str
) -> discord.Thread | None:
    """A thread on the asking message, named after the request; the one made before a crash
    when the request is resumed (a message's thread has the message's id); None if Discord
    refuses (the answer then goes to the channel, as without the option)."""
    try:
        thread = await channel.get_partial_message(message_id).create_thread(
            name=thread_name(request)
        )
    except discord.HTTPException as exc:
        if exc.code == THREAD_EXISTS:
            found = channel.guild.get_thread(message_id) or await channel.guild.fetch_channel(
                message_id
            )
            return found if isinstance(found, discord.Thread) else None
        log.warning(
            "discord_thread_not_opened channel=%s status=%s code=%s",
            channel.id,
            exc.status,
            exc.code,
        )
        return None
    log.info("discord_thread_opened channel=%s thread=%s", channel.id, thread.id)
    return thread
