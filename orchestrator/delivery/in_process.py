"""Delivery records for one process: a bounded TTL map of claims, requests in a dict.

The embedded default. Duplicates are dropped while the process lives; a hard crash loses the
claims and the requests in flight (the README says so), since nothing here outlives the process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from orchestrator.delivery.base import InboundRequest, replies_to_data
from orchestrator.messages import Reply


class TtlSet:
    """Keys that expire after `ttl` seconds, at most `max_items` of them (oldest go first)."""

    def __init__(
        self, ttl: float, max_items: int = 100_000, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.max_items, self._now = ttl, max_items, now
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        expires = self._expiry.get(key)
        return expires is not None and expires > self._now()

    def add(self, key: str) -> None:
        self._expiry[key] = self._now() + self.ttl
        self._expiry.move_to_end(key)
        now = self._now()
        while self._expiry:
            oldest, expires = next(iter(self._expiry.items()))
            if expires > now and len(self._expiry) <= self.max_items:
                break
            del self._expiry[oldest]


class InProcessDeliveryStore:
    durable = False
    alive_seconds = 5.0

    def __init__(self, claim_ttl_seconds: float = 2 * 86400, max_claims: int = 100_000) -> None:
        self._claims = TtlSet(claim_ttl_seconds, max_claims)
        self._requests: dict[str, InboundRequest] = {}

    async def claim(self, *keys: str) -> bool:
        if any(key in self._claims for key in keys):
            return False
        for key in keys:
            self._claims.add(key)
        return True

    async def open(self, request: InboundRequest, owner: str) -> None:
        self._requests[request.key] = request

    async def get(self, key: str) -> InboundRequest | None:
        return self._requests.get(key)

    async def set_notice(self, key: str, notice: str) -> None:
        if key in self._requests:
            self._requests[key].notice = notice

    async def save_replies(self, key: str, replies: Sequence[Reply]) -> None:
        if key in self._requests:
            self._requests[key].replies = replies_to_data(replies)

    async def mark_sent(self, key: str, part: str, ref: str) -> None:
        if key in self._requests:
            self._requests[key].sent[part] = ref

    async def finish(self, key: str) -> None:
        self._requests.pop(key, None)

    async def beat(self, owner: str) -> None:
        return None  # one process: it is alive while anyone can ask

    def keep_alive(self, owner: str) -> Callable[[], None]:
        return lambda: None

    async def lease(self, keys: Sequence[str], owner: str, *, take: bool = False) -> list[str]:
        return [] if take else [k for k in keys if k in self._requests]

    async def orphans(self, platform: str) -> list[InboundRequest]:
        return []  # the only process that could own them is this one

    async def count_resume(self, key: str) -> int:
        request = self._requests.get(key)
        if request is None:
            return 1
        request.resumes += 1
        return request.resumes

    async def close(self) -> None:
        return None
