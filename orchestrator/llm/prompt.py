"""Builds the message list the LLM sees: system prompt, remembered context, recent turns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.memory.base import Memory
from orchestrator.messages import ChatMessage
from orchestrator.sessions.model import Session

SYSTEM_PROMPT = """You are {name}, an assistant with real tools inside a team's {platform} chat.
Use the tools you are given to act; if none fits, call `search_tools` to find one.
Never invent tool results. Answer briefly in Markdown. Today is {today} (UTC)."""


def build_messages(
    message: ChatMessage,
    session: Session,
    memories: Sequence[Memory],
    *,
    name: str,
    extra_system: str = "",
) -> list[dict[str, Any]]:
    system = SYSTEM_PROMPT.format(
        name=name, platform=message.platform, today=message.received_at.date().isoformat()
    )
    if extra_system:
        system += "\n" + extra_system
    if memories:
        lines = [f"- {m.request} -> {m.summary}" for m in memories]
        system += "\nRelevant earlier interactions in this chat:\n" + "\n".join(lines)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for turn in session.turns:
        messages.append({"role": turn.role, "content": turn.text})
    author = f"{message.user_name}: " if message.user_name else ""
    messages.append({"role": "user", "content": author + message.text})
    return messages
