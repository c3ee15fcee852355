"""The job a front end enqueues: the ChatMessage, where to answer, and when it was received.

Serialised as one JSON field of a stream entry (`v` is the format version).
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.mcp.questions import is_answer
from orchestrator.media.codec import (
    attachments_from_data,
    attachments_to_data,
    files_from_data,
    files_to_data,
)
from orchestrator.messages import ChatMessage, Choice, Origin, Reply, ReplyKind

VERSION = 1


@dataclass(frozen=True, slots=True)
class Job:
    id: str  # stable per platform event: the inbound dedupe key and the outbox key
    message: ChatMessage
    target_platform: str
    target_chat_id: str
    reply_to: str | None = None  # the platform message id answers thread to
    header: str | None = None  # a scheduled run's first line ("Scheduled abc: ...")
    enqueued_at: float = field(default_factory=time.time)

    @property
    def chat_key(self) -> str:
        """The chat whose order this job keeps (partitioning key)."""
        return self.message.chat_key

    @property
    def answers_question(self) -> bool:
        """An answer to a tool server's question: queued on the partition's answers lane."""
        return is_answer(self.message.text)

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": VERSION,
                "id": self.id,
                "message": message_to_dict(self.message),
                "target": [self.target_platform, self.target_chat_id],
                "reply_to": self.reply_to,
                "header": self.header,
                "enqueued_at": self.enqueued_at,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Job:
        doc = json.loads(raw)
        if doc.get("v") != VERSION:
            raise ValueError(f"unknown job format {doc.get('v')!r}")
        platform, chat_id = doc["target"]
        return cls(
            id=doc["id"],
            message=message_from_dict(doc["message"]),
            target_platform=platform,
            target_chat_id=chat_id,
            reply_to=doc.get("reply_to"),
            header=doc.get("header"),
            enqueued_at=float(doc["enqueued_at"]),
        )


def message_job(message: ChatMessage) -> Job:
    """A chat message answered in its own chat, threaded to it."""
    return Job(
        id=event_key(message),
        message=message,
        target_platform=message.platform,
        target_chat_id=message.chat_id,
        reply_to=message.message_id,
    )


def event_key(message: ChatMessage) -> str:
    """One key per platform event. A button press carries the bot message's id, so the
    presser and the command it sends are part of the key (two buttons are two events)."""
    digest = zlib.crc32(f"{message.user_id}\0{message.text}".encode()) & 0xFFFFFFFF
    return f"{message.platform}:{message.chat_id}:{message.message_id}:{digest:08x}"


def message_to_dict(message: ChatMessage) -> dict[str, Any]:
    return {
        "platform": message.platform,
        "chat_id": message.chat_id,
        "user_id": message.user_id,
        "text": message.text,
        "user_name": message.user_name,
        "message_id": message.message_id,
        "is_private": message.is_private,
        "is_admin": message.is_admin,
        "received_at": message.received_at.isoformat(),
        "approved_tools": sorted(message.approved_tools),
        "origin": message.origin.value,
        "thread_id": message.thread_id,  # f31a
        "attachments": attachments_to_data(message.attachments),
        "transcribed": message.transcribed,
    }


def message_from_dict(doc: dict[str, Any]) -> ChatMessage:
    return ChatMessage(
        platform=doc["platform"],
        chat_id=doc["chat_id"],
        user_id=doc["user_id"],
        text=doc["text"],
        user_name=doc.get("user_name", ""),
        message_id=doc.get("message_id"),
        is_private=bool(doc.get("is_private")),
        is_admin=bool(doc.get("is_admin")),
        received_at=datetime.fromisoformat(doc["received_at"]),
        approved_tools=frozenset(doc.get("approved_tools", ())),
        # A job from an older version names no origin: a scheduled one (its id says so) keeps
        # the schedule's limits rather than gaining a person's.
        origin=Origin(doc.get("origin") or _older_origin(doc)),
        thread_id=doc.get("thread_id"),  # f31a
        attachments=attachments_from_data(doc.get("attachments")),
        transcribed=bool(doc.get("transcribed")),
    )


def _older_origin(doc: dict[str, Any]) -> Origin:
    scheduled = str(doc.get("message_id") or "").startswith("schedule:")
    return Origin.SCHEDULE if scheduled else Origin.PERSON


def replies_to_json(replies: list[Reply]) -> str:
    return json.dumps(
        [
            {
                "text": r.text,
                "kind": r.kind.value,
                "choices": [[c.label, c.command] for c in r.choices],
                "for_user_id": r.for_user_id,
                "ephemeral": r.ephemeral,
                "files": files_to_data(r.files),
            }
            for r in replies
        ],
        separators=(",", ":"),
    )


def replies_from_json(raw: str | bytes) -> list[Reply]:
    return [
        Reply(
            d["text"],
            ReplyKind(d["kind"]),
            tuple(Choice(label, command) for label, command in d["choices"]),
            d.get("for_user_id"),
            bool(d.get("ephemeral")),
            files_from_data(d.get("files")),
        )
        for d in json.loads(raw)
    ]
