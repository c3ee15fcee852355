"""Progress reports reach the watcher of their own request only."""

from __future__ import annotations

import asyncio

from orchestrator.progress import Progress, report, running


async def test_each_request_reports_to_its_own_watcher_and_unwatched_work_to_nobody() -> None:
    async def work(tool: str, started: asyncio.Event, go_on: asyncio.Event) -> str:
        report("thinking")
        started.set()
        await go_on.wait()
        await asyncio.gather(call(tool))  # a task the request starts inherits its watcher
        return tool

    async def call(tool: str) -> None:
        report(running([tool, tool]))

    first, second = Progress(), Progress()
    events = [asyncio.Event() for _ in range(3)]
    go_on = asyncio.Event()
    tasks = [
        asyncio.create_task(first.track(work("a/one", events[0], go_on))),
        asyncio.create_task(second.track(work("b/two", events[1], go_on))),
        asyncio.create_task(work("c/three", events[2], go_on)),  # nobody watches
    ]
    for event in events:
        await event.wait()
    assert (first.doing, second.doing) == ("thinking", "thinking")
    go_on.set()
    assert await asyncio.gather(*tasks) == ["a/one", "b/two", "c/three"]
    assert (first.doing, second.doing) == ("running a/one", "running b/two")


def test_a_step_with_many_tools_names_its_first_few() -> None:
    assert running(["a/x", "a/x", "b/y"]) == "running a/x, b/y"
    assert running([f"s/t{i}" for i in range(7)]) == "running s/t0, s/t1, s/t2 and 4 more"
