"""`kill -9` of the bot process in the middle of a slow request, then a restart: the request is
answered exactly once, and its "Working on it" notice becomes the answer instead of staying; the
restart resumes it as soon as the killed process's liveness key lapses, long before its lease.

The bot runs as a real `orchestrator run telegram` subprocess against the fake Bot API, the
fake OpenAI server (scripted slow for the first call) and the real Redis.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.fakes.openai_server import FakeOpenAI, text
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import eventually

pytestmark = pytest.mark.slow

ANSWER = "Here is the weekly report."


def bot_config(
    tmp_path: Path, fake: FakeTelegram, llm_url: str, redis_url: str, prefix: str
) -> Path:
    path = tmp_path / "bot.yaml"
    path.write_text(
        "orchestrator:\n"
        "  name: crashbot\n"
        f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
        "  memory_system: {type: none}\n"
        # No MCP servers, so no tools to route: no embedding model to load at each start.
        "  tool_routing: {strategy: all}\n"
        "scheduler: {enabled: false}\n"
        f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: '{prefix}'}}\n"
        # A lease far longer than the test: the restart can only resume in time by seeing that
        # the killed process stopped beating (its liveness key lives 2 s).
        "delivery: {lease_seconds: 120, alive_seconds: 2}\n"
        "bots:\n"
        f"  telegram: {{token: '{fake.token}', base_url: '{fake.base_url}',"
        " working_notice_seconds: 0.2}\n"
    )
    return path


@asynccontextmanager
async def bot_process(config: Path, log: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`orchestrator run telegram` as a subprocess; SIGTERM at the end, awaited off the loop.

    The fakes answer from this event loop: a blocking wait would leave the stopping process's
    last calls (a reaction, the final getUpdates) unanswered until they time out (5 s)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "run", "telegram", "--config", str(config)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            if not await eventually(lambda: proc.poll() is not None, 20):
                proc.kill()
        await asyncio.to_thread(proc.wait)


def answers(fake: FakeTelegram) -> list[dict[str, Any]]:
    return [
        c.params
        for c in fake.calls
        if c.method in ("sendMessage", "editMessageText") and ANSWER in str(c.params.get("text"))
    ]


async def test_a_request_cut_by_kill_9_is_answered_once_after_restart(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: object
) -> None:
    release = threading.Event()

    def slow(body: dict[str, Any]) -> dict[str, Any]:
        release.wait(60)  # the first process is killed while this waits
        return text("too late")

    log = tmp_path / "bot.log"
    with FakeOpenAI([slow], default=text(ANSWER)) as llm:
        async with FakeTelegram() as fake:
            config = bot_config(tmp_path, fake, llm.base_url, redis_url, key_prefix)
            async with bot_process(config, log) as first:
                fake.message_update("weekly report please", chat_id=21, chat_type="private")
                working = await eventually(
                    lambda: any("Working on it" in t for t in _texts(fake)), 60
                )
                assert working, log.read_text()[-3000:]
                # The notice comes after 0.2 s whether or not the model was asked yet (a busy
                # machine, the 👀 reaction beside it): wait for the model call, never assume it.
                assert await eventually(lambda: len(llm.requests) == 1, 30), log.read_text()[-3000:]
                # Killed once the notice is recorded (killed between its send and its record,
                # the restarted process cannot know it and answers in a new message).
                assert await notice_recorded(redis_client, f"{key_prefix}:crashbot:dlv:req:*")
                first.send_signal(signal.SIGKILL)
                first.wait(10)
            assert not fake.updates  # Telegram was told: the update will never come again
            restarted = time.monotonic()
            async with bot_process(config, log):
                done = await eventually(lambda: bool(answers(fake)), 60)
                assert done, log.read_text()[-3000:]
                print(f"answered {time.monotonic() - restarted:.1f} s after the restart")
                await eventually(lambda: any("Summary" in t for t in _texts(fake)), 10)
                release.set()
    notice_id = fake.message_id_of("Working on it")
    assert len(answers(fake)) == 1
    final = answers(fake)[0]
    assert final.get("message_id") == notice_id  # the notice was replaced by the answer
    assert len([t for t in _texts(fake) if t.startswith("Working on it")]) == 1
    assert len([t for t in _texts(fake) if "Summary" in t]) == 1
    assert "request_resumed platform=telegram" in log.read_text()
    # Taken over from a dead owner while its lease still ran: liveness, not the lease running out.
    [taken] = re.findall(r"lease_taken key=\S+ owner=\S+ lease_left_ms=(\d+)", log.read_text())
    assert int(taken) > 0


async def notice_recorded(client: Any, pattern: str, seconds: float = 10) -> bool:
    """The delivery record of the one request in flight holds its notice's message id."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async for key in client.scan_iter(pattern):
            if await client.hget(key, "notice"):
                return True
        await asyncio.sleep(0.02)
    return False


def _texts(fake: FakeTelegram) -> list[str]:
    return [str(p.get("text", "")) for p in fake.sent()]
