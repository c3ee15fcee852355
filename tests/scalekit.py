"""Processes and checks for the scale-out tests and benchmark: a front end and workers started
as real `orchestrator` subprocesses against the fake Bot API and a real Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from tests.conftest import REPO, time_server_yaml
from tests.fakes.telegram_api import FakeTelegram

RUN_TIME = '/run time get_current_time {"timezone": "UTC"}'


def write_config(
    path: Path,
    fake: FakeTelegram,
    redis_url: str,
    prefix: str,
    *,
    llm_url: str | None = None,
    scale: str = "partitions: 16, worker_concurrency: 8, lease_seconds: 4, block_ms: 200",
) -> Path:
    # Without a model the messages are `/run` commands, which no router sees: no process loads
    # the embedding models for it (about a second of CPU each, at every start).
    llm = (
        f"  llm_settings: {{base_url: '{llm_url}', api_key: k, max_retries: 0}}\n"
        if llm_url
        else "  tool_routing: {strategy: all}\n"
    )
    path.write_text(
        f"orchestrator:\n{llm}  memory_system: {{type: none}}\n"
        f"mcp_servers:\n{time_server_yaml()}"
        f"bots:\n  telegram: {{token: '{fake.token}', base_url: '{fake.base_url}'}}\n"
        f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: '{prefix}'}}\n"
        "scheduler: {enabled: false}\n"
        "limits: {messages_per_minute_per_user: 100000}\n"
        f"scale: {{mode: distributed, {scale}}}\n"
    )
    return path


class Procs:
    """The front end and workers of one test, each a subprocess logging to its own file."""

    def __init__(self, config: Path, logs: Path) -> None:
        self.config, self.logs = config, logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", *args, "--config", str(self.config)],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.running[name] = proc
        return proc

    def frontend(self) -> subprocess.Popen[bytes]:
        return self._start("frontend", "run", "telegram", "--role", "frontend")

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return self._start(name, "worker", "--name", name)

    def kill(self, name: str) -> None:
        """kill -9: no clean-up of any kind."""
        self.running.pop(name).send_signal(signal.SIGKILL)

    async def stop(self, name: str, timeout: float = 30) -> int:
        """SIGTERM and wait: a worker finishes its jobs in hand and gives its partitions back."""
        proc = self.running.pop(name)
        proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0)
        for _ in range(int(timeout * 20)):
            if proc.poll() is not None:
                return proc.returncode
            await asyncio.sleep(0.05)
        proc.kill()
        return -9

    def log_text(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    async def close(self) -> None:
        """SIGTERM every process, wait for them (kill what is still up after 15 s)."""
        names = list(self.running)
        for name in names:
            if self.running[name].poll() is None:
                self.running[name].send_signal(signal.SIGTERM)
        for _ in range(300):
            if all(self.running[n].poll() is not None for n in names):
                break
            await asyncio.sleep(0.05)
        for name in names:
            proc = self.running.pop(name)
            if proc.poll() is None:
                proc.kill()
                proc.wait()


async def live_workers(client: aioredis.Redis, prefix: str) -> int:
    return int(await client.zcard(f"{prefix}:q:workers"))


async def wait_until(condition: Any, seconds: float, every: float = 0.1) -> bool:
    """Await `condition()` (sync or async) until true or `seconds` pass."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(every)


def push_messages(
    fake: FakeTelegram, chats: int, per_chat: int, text: str = RUN_TIME
) -> dict[int, int]:
    """`per_chat` messages in each of `chats` group chats, interleaved as real traffic is;
    message id -> chat id."""
    asked: dict[int, int] = {}
    for _ in range(per_chat):
        for c in range(chats):
            chat_id = -(10_000 + c)
            fake.message_update(text, chat_id=chat_id, user_id=100 + c)
            asked[fake.updates[-1]["message"]["message_id"]] = chat_id
    return asked


def replies_by_message(fake: FakeTelegram) -> dict[int, int]:
    """Asking message id -> how many replies were posted to it."""
    counts: dict[int, int] = defaultdict(int)
    for params in fake.sent():
        ref = params.get("reply_parameters") or {}
        if "message_id" in ref:
            counts[int(ref["message_id"])] += 1
    return counts


def order_violations(fake: FakeTelegram) -> list[tuple[int, int, int]]:
    """(chat, earlier answered id, later answered id) wherever a chat's replies went backwards."""
    last: dict[int, int] = {}
    bad = []
    for params in fake.sent():
        ref = params.get("reply_parameters") or {}
        if "message_id" not in ref:
            continue
        chat, mid = int(params["chat_id"]), int(ref["message_id"])
        if chat in last and mid < last[chat]:
            bad.append((chat, last[chat], mid))
        last[chat] = max(mid, last.get(chat, mid))
    return bad


async def unconfirmed_skips(client: aioredis.Redis, prefix: str) -> list[str]:
    """Jobs with a part that a dead worker claimed and nobody could confirm (not resent)."""
    entries = await client.xrange(f"{prefix}:q:unconfirmed")
    return [f[b"job"].decode() for _, f in entries if f.get(b"action") == b"skip"]


async def queue_length(client: aioredis.Redis, prefix: str, partitions: int) -> int:
    return sum([int(await client.xlen(f"{prefix}:q:in:{p}")) for p in range(partitions)])


async def markers_answered(fake: FakeTelegram, chats: int, seconds: float = 120) -> bool:
    """One more message in each of `chats` chats, each answered: a chat is answered in order, so
    anything due before a marker (a duplicate included) has been posted by then."""
    markers = push_messages(fake, chats=chats, per_chat=1)
    return await wait_until(
        lambda: len(replies_by_message(fake).keys() & markers.keys()) == len(markers), seconds
    )


async def queue_empty(client: aioredis.Redis, prefix: str, partitions: int) -> bool:
    for p in range(partitions):
        if await client.xlen(f"{prefix}:q:in:{p}"):
            return False
    return True
