"""The queue's seams as the rest of the app sees them: enqueue a message, send a reply part."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from orchestrator.messages import ChatMessage, Reply


class JobQueue(Protocol):
    """What a front end does with a message instead of answering it itself."""

    async def enqueue_message(self, message: ChatMessage) -> bool:
        """Queue the message for a worker; False when it was queued before (a duplicate)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class OutPart:
    """One platform message of a reply: replies longer than a platform's limit have several."""

    reply: Reply
    index: int  # part number within the job's whole answer: the outbox marks each as sent
    last: bool  # buttons go on a reply's last part
    body: Any  # the platform's rendering (text, or text plus entities)


def numbered_parts(
    replies: Sequence[Reply], render: Callable[[Reply], Sequence[Any]]
) -> list[OutPart]:
    """Every part of `replies` in sending order: each reply's rendered bodies (`render`: one
    or more platform messages of its text, buttons on the last), then its files."""
    parts: list[OutPart] = []
    for reply in replies:
        rendered = render(reply)
        for index, body in enumerate(rendered):
            parts.append(OutPart(reply, len(parts), index == len(rendered) - 1, body))
        parts.extend(OutPart(reply, len(parts) + i, False, f) for i, f in enumerate(reply.files))
    return parts


class ReplySender(Protocol):
    """A platform's HTTP API as a worker uses it: no gateway, no polling. A sender may also
    offer `async show_typing(chat_id, thread_id)`, kept up while a person's job runs
    (`queue/working.py`)."""

    platform: str
    idempotent: bool  # the platform drops a resent part by `key` (Discord's enforce_nonce)

    async def start(self) -> None: ...

    def render(self, replies: Sequence[Reply]) -> list[OutPart]:
        """Every part of these replies, numbered in sending order."""
        ...

    async def send(
        self,
        chat_id: str,
        part: OutPart,
        reply_to: str | None,
        key: str = "",
        thread_id: str | None = None,
    ) -> str:
        """Post one part (`key` names it uniquely; into topic/thread `thread_id` if given); the
        platform's message id. Raises `SendNotDelivered` when the platform proved the part was
        not delivered."""
        ...

    async def close(self) -> None: ...


class SendNotDelivered(Exception):
    """The platform proved a part was not delivered (refused, 4xx): it may be sent again."""


class NoSender(Exception):
    """No sender is configured for the job's target platform (a worker without its token)."""
