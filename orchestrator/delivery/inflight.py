"""The requests this process is working on: leased while alive, resumed once after a crash.

Each adapter owns one `Inflight`. `begin` claims an event's idempotency keys and records the
request (before the platform is told it arrived); `end` forgets it once its replies are out.
A thread beats this process's liveness key (so an event-loop stall never looks like death),
and a background task also beats it, renews its leases and looks for requests
whose process died (lease expired, or owner no longer beating) and hands each to `resume` once.
It never resumes a request this process is running, even after an event-loop stall longer than
the lease: its own requests are in `_held`, and their expired leases are taken back, not resumed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from orchestrator import metrics
from orchestrator.delivery.base import DeliveryStore, InboundRequest
from orchestrator.tasks import stop_if_cancelled

log = logging.getLogger(__name__)

Resume = Callable[[InboundRequest], Awaitable[None]]
MAX_RESUMES = 1  # a request that killed its process twice is answered with an apology instead


def given_up(request: InboundRequest) -> bool:
    return request.resumes > MAX_RESUMES


class Inflight:
    def __init__(self, store: DeliveryStore, platform: str, *, lease_seconds: float = 30) -> None:
        self.store, self.platform, self.lease_seconds = store, platform, lease_seconds
        self.owner = f"{platform}-{uuid.uuid4().hex[:12]}"
        self._held: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._resuming: set[asyncio.Task[None]] = set()
        self._stop_beating: Callable[[], None] | None = None

    async def begin(self, key: str, payload: dict[str, object], *also: str) -> bool:
        """Claim the event (and its other keys); record it. False for a duplicate."""
        if not await self.store.claim(key, *also):
            log.info("duplicate_dropped platform=%s key=%s", self.platform, key)
            metrics.duplicate_dropped(self.platform)
            return False
        self._held.add(key)
        await self.store.open(InboundRequest(key, self.platform, dict(payload)), self.owner)
        return True

    async def describe(self, key: str, payload: dict[str, object]) -> None:
        """Record what a held event turned out to be (an accepted button press: what a later
        process needs to answer it), replacing the record `begin` made."""
        await self.store.open(InboundRequest(key, self.platform, dict(payload)), self.owner)

    async def end(self, key: str) -> None:
        self._held.discard(key)
        await self.store.finish(key)

    def start(self, resume: Resume) -> None:
        if self._task is None and self.store.durable:
            self._stop_beating = self.store.keep_alive(self.owner)
            self._task = asyncio.create_task(self._watch(resume), name="delivery-inflight")

    async def stop(self) -> None:
        if self._stop_beating is not None:
            self._stop_beating()
            self._stop_beating = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def recover(self, resume: Resume) -> int:
        """Resume every orphaned request once; returns how many this process took."""
        taken = 0
        for request in await self.store.orphans(self.platform):
            if request.key in self._held:
                continue  # ours, still running: its lease lapsed in a stall, the watch renews it
            if not await self.store.lease([request.key], self.owner, take=True):
                continue  # another process took it first
            self._held.add(request.key)
            request.resumes = await self.store.count_resume(request.key)
            metrics.request_resumed(self.platform)
            log.info(
                "request_resumed platform=%s key=%s resumes=%d",
                self.platform,
                request.key,
                request.resumes,
            )
            taken += 1
            task = asyncio.create_task(self._resume_one(resume, request))
            self._resuming.add(task)
            task.add_done_callback(self._resuming.discard)
        return taken

    async def _resume_one(self, resume: Resume, request: InboundRequest) -> None:
        try:
            await resume(request)
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop recovery
            log.warning(
                "request_resume_failed platform=%s key=%s error=%s",
                self.platform,
                request.key,
                type(exc).__name__,
            )

    async def _watch(self, resume: Resume) -> None:
        every = max(min(self.lease_seconds, self.store.alive_seconds) / 4, 0.05)
        while True:
            try:
                await self.store.beat(self.owner)
                if self._held:
                    await self.store.lease(sorted(self._held), self.owner)
                await self.recover(resume)
            except Exception as exc:  # noqa: BLE001 - a Redis blip must not end the watch
                log.warning(
                    "delivery_watch_failed platform=%s error=%s", self.platform, type(exc).__name__
                )
            stop_if_cancelled()  # a cancel a client call swallowed
            await asyncio.sleep(every)
