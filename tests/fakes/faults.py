"""Planned failures for the fake HTTP APIs: the next calls answer an error status or stall.

Each fake shapes the error body the way its real service does; this only keeps the queue.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fault:
    status: int | None  # None: stall (answer nothing until the fake closes or `stall` passes)
    retry_after: float | None = None
    stall: float = 0.0
    match: str = ""  # only calls whose path contains this
    delivered: bool = False  # a stall after the call took effect (the fake delivers, then stalls)


@dataclass
class Faults:
    queue: list[Fault] = field(default_factory=list)
    closing: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self, status: int, *, retry_after: float | None = None, times: int = 1, match: str = ""
    ) -> None:
        """The next `times` calls answer `status` (429 carries Retry-After when given)."""
        with self._lock:
            self.queue.extend([Fault(status, retry_after, match=match)] * times)

    def stall_next(self, seconds: float = 30.0, *, times: int = 1, match: str = "") -> None:
        """The next `times` calls get no answer for `seconds` (a client timeout)."""
        with self._lock:
            self.queue.extend([Fault(None, stall=seconds, match=match)] * times)

    def stall_after_next(self, seconds: float = 30.0, *, match: str = "") -> None:
        """The next call takes effect, then its answer stalls for `seconds` (a client timeout
        for a request that nonetheless went through)."""
        with self._lock:
            self.queue.append(Fault(None, stall=seconds, match=match, delivered=True))

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self.queue):
                # A reaction call (issue 31) takes only a fault that names reactions: one planned
                # for a message post is not spent on the 👀 sent beside it.
                if "/reactions/" in path and "reactions" not in fault.match:
                    continue
                if fault.match in path:
                    return self.queue.pop(index)
        return None
