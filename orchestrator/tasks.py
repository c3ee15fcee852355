"""Small helpers for the background loops' tasks."""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Raise CancelledError when this task is being cancelled.

    A loop that catches `Exception` around a client call goes on forever if that client turned
    the cancel into another error (seen with a Redis call cut at shutdown: the event loop's
    close then waited on the task for good). Call this after each guarded call."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
