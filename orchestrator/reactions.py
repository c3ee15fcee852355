"""Reactions on the asking message (issue 31), the platform-neutral part: whether a chat wants
them and how a request ended. The adapters (and a worker's senders) set the emoji."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from orchestrator.config import Config
from orchestrator.messages import ChatMessage, Reply, ReplyKind


class Outcome(StrEnum):
    TAKEN = "taken"  # 👀
    DONE = "done"  # ✅ (Telegram: 👍)
    FAILED = "failed"  # ❌ (Telegram: 👎)


def reactions_wanted(config: Config, message: ChatMessage) -> bool:
    """On by default (`reactions.enabled`), off per chat (`chats.<key>.reactions: false`)."""
    policy = config.policy_for(message.chat_key)
    return config.reactions.enabled and policy.allowed and policy.reactions


def outcome_of(replies: Sequence[Reply]) -> Outcome:
    return Outcome.FAILED if any(r.kind is ReplyKind.ERROR for r in replies) else Outcome.DONE
