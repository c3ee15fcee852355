"""The platform-neutral message types that cross the adapter/core boundary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable


class ReplyKind(StrEnum):
    ANSWER = "answer"
    SUMMARY = "summary"
    ERROR = "error"
    NOTICE = "notice"


class Origin(StrEnum):
    """Who wrote a message's text. Only a person's own words act with a person's authority: a
    slash command in a scheduled run's text (which the model may have written) gets no more
    than the schedule's standing approvals."""

    PERSON = "person"  # typed (or a button pressed) by the sender in the chat
    SCHEDULE = "schedule"  # a scheduled run's saved text, sent in its creator's name


# -- files and voice (issue 31, f31c) ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with a message, already read by the adapter: a document's text, or an
    image's bytes (which go to the model only when it accepts images)."""

    kind: str  # "document" | "image"
    name: str
    mime: str = ""
    text: str = ""  # a document's text (orchestrator.media.documents)
    data: bytes = b""  # an image's bytes


@dataclass(frozen=True, slots=True)
class OutFile:
    """A file to post (an MCP tool's image or embedded resource): a photo or a document."""

    name: str
    mime: str
    data: bytes

    @property
    def is_image(self) -> bool:
        return self.mime in {"image/png", "image/jpeg", "image/gif", "image/webp"}


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One inbound message, as every adapter hands it to the core."""

    platform: str
    chat_id: str
    user_id: str
    text: str
    user_name: str = ""
    message_id: str | None = None
    is_private: bool = False
    is_admin: bool = False
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # "server/tool" approved in advance (a schedule's standing approvals); runs need no button.
    approved_tools: frozenset[str] = frozenset()
    origin: Origin = Origin.PERSON
    # -- f31a topics and threads --------------------------------------------------------------
    # The Telegram forum topic or Discord thread the message came from: replies, notices and
    # schedules made here go back there. `thread_shared`: the chat's topics share one session
    # and memory (`chats.<key>.topics: shared`); the core sets it from the config.
    thread_id: str | None = None
    thread_shared: bool = False

    @property
    def conversation_key(self) -> str:
        """What a session, memory and ordering follow: the chat, or the chat's topic/thread."""
        if self.thread_id is None or self.thread_shared:
            return self.chat_key
        return f"{self.chat_key}:{self.thread_id}"

    # -- end f31a ------------------------------------------------------------------------------
    # -- files and voice (issue 31, f31c): what came with the text; `transcribed`: the text is
    # a voice message's transcript (shown once with the answer).
    attachments: tuple[Attachment, ...] = ()
    transcribed: bool = False

    @property
    def from_person(self) -> bool:
        """The text is the sender's own words (not a schedule's saved text)."""
        return self.origin is Origin.PERSON

    @property
    def chat_key(self) -> str:
        """Globally unique chat identity: platform plus platform chat id."""
        return f"{self.platform}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class Choice:
    """A button. Pressing it sends `command` back through `Orchestrator.handle`."""

    label: str
    command: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One outbound message; adapters render it for their platform."""

    text: str
    kind: ReplyKind = ReplyKind.ANSWER
    choices: tuple[Choice, ...] = ()
    for_user_id: str | None = None
    ephemeral: bool = False
    files: tuple[OutFile, ...] = ()  # files and voice (issue 31, f31c): posted after the text


@runtime_checkable
class ChatAdapter(Protocol):
    """A chat platform backend: it receives messages and posts replies."""

    platform: str

    async def send(
        self, chat_id: str, replies: Sequence[Reply], thread_id: str | None = None
    ) -> None: ...
