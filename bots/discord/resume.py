"""What a Discord message's record holds, so a later process can answer it again (`resume`):
the channel to answer in (a thread's own id), and the conversation (parent channel and thread).
A button press accepted (its buttons taken away) is recorded the same way (`press_payload`),
with the question it answers: a later process answers it in the channel, replying to that
question, since the press's own interaction token is a credential and is never kept."""

from __future__ import annotations

from typing import Any

from orchestrator.messages import ChatMessage

PLATFORM = "discord"


def message_payload(
    channel_id: int, message: ChatMessage, *, files: bool = False
) -> dict[str, object]:
    """What a later process needs to answer this message again (see `resume`); `files`: its
    attachments are read again from the message."""
    return {
        "files": files,
        "kind": "message",
        "channel": channel_id,
        "message_id": message.message_id,
        "user_id": message.user_id,
        "user_name": message.user_name,
        "text": message.text,
        "is_private": message.is_private,
        "is_admin": message.is_admin,
        "chat_id": message.chat_id,  # the parent channel of a thread
        "thread_id": message.thread_id,
    }


def press_payload(channel_id: int, message: ChatMessage, question_id: str) -> dict[str, object]:
    """What a later process needs to run an accepted press and answer it (see `resume`)."""
    payload = message_payload(channel_id, message)
    payload.update(kind="press", question=question_id, message_id=message.message_id or question_id)
    return payload


def message_from_payload(payload: dict[str, Any]) -> ChatMessage:
    """The message a record describes; an older record (no chat id) was a plain channel."""
    thread = payload.get("thread_id")
    return ChatMessage(
        platform=PLATFORM,
        chat_id=str(payload.get("chat_id") or payload["channel"]),
        user_id=str(payload["user_id"]),
        text=str(payload["text"]),
        user_name=str(payload.get("user_name", "")),
        message_id=str(payload["message_id"]),
        is_private=bool(payload.get("is_private")),
        is_admin=bool(payload.get("is_admin")),
        thread_id=str(thread) if thread else None,
    )
