"""`orchestrator dashboard`: serves the console from its own process on the bot's stores and
prints a one-time sign-in link; it shows schedules without running them."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from orchestrator.cli import build_parser
from orchestrator.cli.dashboard import serve
from orchestrator.config import parse_config
from tests.helpers import add_schedule


async def test_dashboard_prints_a_one_time_link_and_serves_the_stores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "schedules.json"
    await add_schedule(store, "abcde", "telegram:-100")
    config = parse_config(
        "orchestrator:\n  memory_system: {type: none}\n"
        f"scheduler: {{path: '{store}'}}\n"
        f"audit: {{path: '{tmp_path / 'audit.jsonl'}'}}\n"
        "http: {port: 0}\n",
        env={},
    )
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(config, ready, stop))
    await asyncio.wait_for(ready.wait(), 60)
    printed = capsys.readouterr().out
    [link] = re.findall(r"http://127\.0\.0\.1:\d+/dashboard/signin\?token=\S+", printed)
    try:
        async with httpx.AsyncClient(follow_redirects=True) as client:
            signed = await client.get(link)  # follows to the overview
            assert signed.status_code == 200 and "cli:operator" in signed.text
            page = await client.get(link.split("/signin")[0] + "/schedules")
            assert "abcde" in page.text and "post the stats" in page.text
            async with httpx.AsyncClient() as other:
                again = await other.get(link)
            assert again.status_code == 403  # the printed link works once
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0


def test_dashboard_options_are_parsed() -> None:
    ns = build_parser().parse_args(["dashboard", "--host", "0.0.0.0", "--port", "8711"])
    assert (ns.host, ns.port, ns.command) == ("0.0.0.0", 8711, "dashboard")
