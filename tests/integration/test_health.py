"""`orchestrator health` without `--url`: the config, the real Redis, the memory directory and
the heartbeat of a running bot process (a real one in-process, and one killed with SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.app import build_orchestrator
from orchestrator.cli import main as cli_main
from orchestrator.config import load_config
from tests.conftest import REPO
from tests.helpers import eventually


def write_config(tmp_path: Path, redis_url: str, key_prefix: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"orchestrator:\n  memory_system: {{persist_directory: '{tmp_path / 'memory'}'}}\n"
        f"sessions: {{backend: redis, url: '{redis_url}', key_prefix: '{key_prefix}'}}\n"
        "scheduler: {enabled: false}\n"
        # A beat a second, stale after three missed: a loaded machine does not stall that long.
        f"health: {{heartbeat_path: '{tmp_path / 'beat.json'}', heartbeat_seconds: 1}}\n"
    )
    return path


async def health(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(cli_main, ["health", "--config", str(path)])
    return code, capsys.readouterr().out


async def test_health_is_ok_only_while_a_bot_process_beats(
    tmp_path: Path, redis_url: str, key_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, redis_url, key_prefix)
    code, before = await health(path, capsys)
    bot = build_orchestrator(load_config(path))
    await bot.start()
    try:
        assert await eventually(lambda: (tmp_path / "beat.json").exists())
        running_code, running = await health(path, capsys)
    finally:
        await bot.stop()
    stopped_code, stopped = await health(path, capsys)

    assert code == 2 and "fail bot process: no heartbeat" in before, before
    assert "ok   redis: reachable" in before and "ok   memory: Chroma directory" in before
    assert running_code == 0, running
    assert f"ok   bot process: pid {os.getpid()} beat" in running
    assert "MCP servers up 0/0" in running
    assert stopped_code == 2 and "the bot process is not running" in stopped  # a clean stop


async def test_a_killed_bot_process_goes_stale_and_fails_the_check(
    tmp_path: Path, redis_url: str, key_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, redis_url, key_prefix)
    script = (
        "import asyncio, sys\n"
        "from orchestrator.app import build_orchestrator\n"
        "from orchestrator.config import load_config\n"
        "async def main():\n"
        "    await build_orchestrator(load_config(sys.argv[1])).start()\n"
        "    await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=REPO)
    try:
        assert await eventually(lambda: (tmp_path / "beat.json").exists(), seconds=60)
        alive_code, alive = await health(path, capsys)
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean stop: the heartbeat file stays behind
        proc.wait()
    assert alive_code == 0 and f"pid {proc.pid} beat" in alive, alive

    deadline = asyncio.get_running_loop().time() + 60
    while True:  # three missed beats (3 s) make it stale
        code, dead = await health(path, capsys)
        if code == 2 or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    assert (tmp_path / "beat.json").exists()
    assert code == 2 and f"fail bot process: pid {proc.pid} last beat" in dead
    assert "hung or dead" in dead


async def test_an_unreachable_redis_fails_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, "redis://127.0.0.1:1/0", "nowhere")
    code, out = await health(path, capsys)
    assert code == 2 and "fail redis: cannot reach Redis" in out
