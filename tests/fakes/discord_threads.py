"""Threads for the fake Discord API (f31a), as Discord documents them.

A thread is a channel (type 11, public) with a `parent_id` and `thread_metadata` (archived,
locked, auto_archive_duration, archive_timestamp). Posting into it: a locked thread answers 400
with code 50083 ("Thread is archived") to a bot without Manage Threads; an archived but unlocked
one is unarchived by the message; a deleted one answers 404 Unknown Channel (10003).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

PUBLIC_THREAD = 11
THREAD_TYPES = (10, 11, 12)


def thread_channel(
    thread_id: str, parent: dict[str, Any], name: str, owner_id: str
) -> dict[str, Any]:
    return {
        "id": thread_id,
        "type": PUBLIC_THREAD,
        "guild_id": parent["guild_id"],
        "parent_id": parent["id"],
        "owner_id": owner_id,
        "name": name,
        "last_message_id": None,
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "locked": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": datetime.now(UTC).isoformat(),
        },
    }


def is_thread(channel: dict[str, Any]) -> bool:
    return channel.get("type") in THREAD_TYPES


def post_refusal(channel: dict[str, Any]) -> tuple[int, str, int] | None:
    """(status, message, code) Discord answers a bot's post into this thread with, or None
    (an archived, unlocked thread is reopened by the post)."""
    if not is_thread(channel):
        return None
    metadata = channel["thread_metadata"]
    if metadata.get("locked"):
        return 400, "Thread is archived", 50083
    metadata["archived"] = False
    return None


ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)


def start_problems(body: Any) -> list[tuple[str, str, str]]:
    """What "Start Thread from Message" refuses in a body: a name of 1-100 characters and an
    auto_archive_duration of 60, 1440, 4320 or 10080 minutes."""
    if not isinstance(body, dict):
        return [("_body", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")]
    problems = []
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        problems.append(("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."))
    duration = body.get("auto_archive_duration")
    if duration is not None and duration not in ARCHIVE_DURATIONS:
        problems.append(
            ("auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, ...}.")
        )
    return problems
