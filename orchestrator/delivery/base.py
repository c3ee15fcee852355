"""The DeliveryStore seam: what makes every platform event answered once and never lost.

Three records, each keyed by the platform event's idempotency key (see `keys`):
- a claim (`claim`): the first caller wins, every later delivery of the same event is a duplicate;
- a request (`open` ... `finish`): written before the platform is told the event arrived, so a
  process that dies mid-request leaves it behind for `orphans` to find and resume once;
- sent parts (`mark_sent`): each reply part that reached the platform, so a resumed request
  never posts it again, plus its computed replies (`save_replies`) so it never runs twice.
A lease (`lease`) says which process works on a request, and a liveness key (`beat`) that each
process renews every second or so says it still lives: a request is an orphan once its lease expired
or its owner stopped beating (killed), whichever comes first.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from orchestrator.media.codec import files_from_data, files_to_data
from orchestrator.messages import Choice, Reply, ReplyKind


@dataclass(slots=True)
class InboundRequest:
    """One received platform event, recorded before it is acknowledged."""

    key: str
    platform: str
    payload: dict[str, Any]  # what the adapter needs to run it again (raw update, message ...)
    received_at: float = field(default_factory=time.time)
    notice: str = ""  # the platform id of a "Working on it" notice, replaced by the answer
    replies: list[dict[str, Any]] | None = None  # the answer, once computed
    sent: dict[str, str] = field(default_factory=dict)  # part id -> platform message id
    resumes: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> InboundRequest:
        data = json.loads(raw)
        return cls(**data)


def replies_to_data(replies: Sequence[Reply]) -> list[dict[str, Any]]:
    return [
        {
            "text": r.text,
            "kind": str(r.kind),
            "choices": [[c.label, c.command] for c in r.choices],
            "for_user_id": r.for_user_id,
            "ephemeral": r.ephemeral,
            "files": files_to_data(r.files),
        }
        for r in replies
    ]


def replies_from_data(data: Sequence[dict[str, Any]]) -> list[Reply]:
    return [
        Reply(
            d["text"],
            ReplyKind(d.get("kind", "answer")),
            tuple(Choice(label, command) for label, command in d.get("choices", [])),
            d.get("for_user_id"),
            bool(d.get("ephemeral", False)),
            files_from_data(d.get("files")),
        )
        for d in data
    ]


class DeliveryStore(Protocol):
    """Claims, request records, sent parts and leases; one process (a TTL map) or Redis."""

    durable: bool  # True when records survive the process (Redis)
    alive_seconds: float  # an owner that has not beaten for this long is dead

    async def claim(self, *keys: str) -> bool:
        """Claim every key at once (SET NX with expiry); False if any was claimed before."""

    async def open(self, request: InboundRequest, owner: str) -> None:
        """Record a claimed request as in progress, leased by `owner`."""

    async def get(self, key: str) -> InboundRequest | None: ...

    async def set_notice(self, key: str, notice: str) -> None: ...

    async def save_replies(self, key: str, replies: Sequence[Reply]) -> None: ...

    async def mark_sent(self, key: str, part: str, ref: str) -> None: ...

    async def finish(self, key: str) -> None:
        """The replies are out: forget the request (its claim stays until it expires)."""

    async def beat(self, owner: str) -> None:
        """`owner` is alive for `alive_seconds` more."""

    def keep_alive(self, owner: str) -> Callable[[], None]:
        """Keep `owner` alive from outside the event loop until the returned function is called."""

    async def lease(self, keys: Sequence[str], owner: str, *, take: bool = False) -> list[str]:
        """Renew `owner`'s leases on `keys` (re-taking its own that expired in a stall), or, with
        take, take those whose lease expired or whose owner is dead; the keys held."""

    async def orphans(self, platform: str) -> list[InboundRequest]:
        """Open requests of `platform` whose lease expired or whose owner is dead."""

    async def count_resume(self, key: str) -> int:
        """Count one more resume of `key`; the new count."""

    async def close(self) -> None: ...
