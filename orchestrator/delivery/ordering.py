"""Per-key FIFO order without a lock held by anyone else: one person's messages in a chat run
one after another in arrival order, while other people and other chats run in parallel.

`turn(key)` takes a place in the key's line when it is *called* (synchronously, before any
await), so the order is the order in which the adapter saw the events, not the order in which
some later network call happened to return. Lines leave nothing behind once empty.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class KeyedSequencer:
    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    def turn(self, key: str) -> Turn:
        """Queue up now; `async with` the result to wait for the turn and hold it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        before = self._tails.get(key)
        self._tails[key] = done
        return Turn(self, key, before, done)

    def _release(self, key: str, done: asyncio.Future[None]) -> None:
        if not done.done():
            done.set_result(None)
        if self._tails.get(key) is done:
            del self._tails[key]

    def __len__(self) -> int:
        return len(self._tails)


class Turn:
    """One place in a key's line."""

    def __init__(
        self,
        owner: KeyedSequencer,
        key: str,
        before: asyncio.Future[None] | None,
        done: asyncio.Future[None],
    ) -> None:
        self._owner, self._key, self._before, self._done = owner, key, before, done

    async def __aenter__(self) -> None:
        if self._before is not None:
            try:
                await asyncio.shield(self._before)
            except asyncio.CancelledError:
                # Give the place up only when the one before is done, so order still holds.
                before = self._before
                before.add_done_callback(lambda _: self._owner._release(self._key, self._done))
                raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._owner._release(self._key, self._done)
