"""The MCP hub against real server subprocesses: ours that misbehave, and third-party ones."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.config import ServerSettings
from orchestrator.errors import ServerDown, ToolTimeout, UnknownTool
from orchestrator.mcp.hub import McpHub
from scripts.with_redis import free_port
from tests.helpers import eventually
from tests.hubkit import child_processes, install_server_everything, misbehaving


async def test_timeout_cancels_the_request_and_the_server_keeps_serving(tmp_path: Path) -> None:
    marker = tmp_path / "cancelled"
    hub = McpHub(
        {
            "sleepy": misbehaving(
                "sleepy", env={"MARKER_FILE": str(marker)}, tool_timeouts={"sleep": 0.5}
            )
        }
    )
    await hub.start()
    try:
        with pytest.raises(ToolTimeout, match="did not answer within 0.5s"):
            await hub.call("sleepy", "sleep", {"seconds": 30})
        assert await eventually(marker.exists, 5), "server never saw notifications/cancelled"
        assert (await hub.call("sleepy", "quick", {})).text == "quick"
    finally:
        await hub.stop()


async def test_crash_mid_call_fails_fast_then_the_server_is_restarted() -> None:
    hub = McpHub({"crashy": misbehaving("crashy", timeout_seconds=60)})
    await hub.start()
    try:
        started = time.monotonic()
        with pytest.raises(ServerDown, match="crashy"):
            await hub.call("crashy", "crash", {})
        assert time.monotonic() - started < 30  # failed fast, not at the 60 s timeout
        assert await eventually(
            lambda: hub.status()[0].state == "up" and hub.status()[0].restarts >= 1
        )
        assert (await hub.call("crashy", "echo", {"text": "back"})).text == "back"
    finally:
        await hub.stop()


async def test_kill_9_mid_conversation_then_works_or_says_down_and_never_hangs() -> None:
    hub = McpHub({"crashy": misbehaving("crashy"), "other": misbehaving("sleepy")})
    await hub.start()
    try:
        assert (await hub.call("crashy", "echo", {"text": "one"})).text == "one"
        [(pid, _, _)] = child_processes("misbehaving.py crashy")
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        outcomes = []
        while time.monotonic() - killed < 5:
            try:
                result = await asyncio.wait_for(hub.call("crashy", "echo", {"text": "two"}), 5)
                outcomes.append(result.text)
                break
            except ServerDown as exc:
                outcomes.append(str(exc))
                await asyncio.sleep(0.1)
        assert outcomes[-1] == "two", outcomes
        assert all(o == "two" or "server crashy" in o for o in outcomes)
        assert (await hub.call("other", "quick", {})).text == "quick"
    finally:
        await hub.stop()


async def test_tool_list_changes_refresh_the_catalogue() -> None:
    hub = McpHub({"changing": misbehaving("changing")})
    await hub.start()
    try:
        version = hub.version
        assert "fresh" not in {t.name for t in hub.catalogue()}
        await hub.call("changing", "add_tool", {"name": "fresh"})
        assert await eventually(lambda: "fresh" in {t.name for t in hub.catalogue()}, 5)
        assert hub.version > version
        assert (await hub.call("changing", "fresh", {})).text == "I am fresh"
    finally:
        await hub.stop()


async def test_ten_servers_two_broken_the_other_eight_serve_and_no_zombies_remain() -> None:
    servers: dict[str, ServerSettings] = {f"ok{i}": misbehaving("crashy") for i in range(8)}
    servers["badcmd"] = ServerSettings(type="custom", command="/nonexistent/mcp-server")
    servers["startcrash"] = misbehaving("start_crash")
    hub = McpHub(servers)
    await hub.start()
    try:
        status = {s.name: s for s in hub.status()}
        assert [n for n, s in status.items() if s.state == "up"] == [f"ok{i}" for i in range(8)]
        assert "command not found: /nonexistent/mcp-server" in status["badcmd"].last_error
        assert "missing API key" in status["startcrash"].last_error
        results = await asyncio.gather(
            *(hub.call(f"ok{i}", "echo", {"text": str(i)}) for i in range(8))
        )
        assert [r.text for r in results] == [str(i) for i in range(8)]
        with pytest.raises(ServerDown, match="badcmd is down"):
            await hub.call("badcmd", "anything", {})
        with pytest.raises(UnknownTool):
            await hub.call("nosuch", "x", {})
    finally:
        await hub.stop()
    assert await eventually(lambda: not child_processes("misbehaving.py"), 5), child_processes()


def test_tools_cli_reports_broken_servers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli import main

    config = tmp_path / "c.yaml"
    config.write_text(
        "mcp_servers:\n"
        f"  good:\n    command: {sys.executable}\n"
        f"    args: ['{misbehaving('crashy').args[0]}', crashy]\n"
        "  broken:\n    command: /nonexistent/mcp-server\n"
    )
    assert main(["tools", "--config", str(config)]) == 1  # a server is down
    out = capsys.readouterr().out
    assert "good: up, 2 tools" in out and "  echo: Echo the text back" in out
    assert "broken: down, 0 tools\n  error: command not found: /nonexistent/mcp-server" in out
    assert main(["tools", "--config", str(config), "--json"]) == 1
    import json

    doc = json.loads(capsys.readouterr().out)
    assert {s["name"]: s["state"] for s in doc["servers"]} == {"good": "up", "broken": "down"}


@pytest.fixture(scope="module")
def everything_entry() -> Path:
    entry = install_server_everything()
    if isinstance(entry, str):
        pytest.skip(entry)
    return entry


async def test_server_everything_echo_sum_and_long_running_progress(everything_entry: Path) -> None:
    hub = McpHub(
        {
            "everything": ServerSettings(
                type="custom", command="node", args=[str(everything_entry), "stdio"]
            )
        }
    )
    await hub.start()
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    try:
        assert "Echo: hello" in (await hub.call("everything", "echo", {"message": "hello"})).text
        assert "7" in (await hub.call("everything", "get-sum", {"a": 3, "b": 4})).text
        result = await hub.call(
            "everything",
            "trigger-long-running-operation",
            {"duration": 1, "steps": 4},
            progress=on_progress,
        )
        assert not result.is_error and "completed" in result.text.lower()
        assert len(progress) == 4
    finally:
        await hub.stop()


def _start_http_server(port: int) -> subprocess.Popen[bytes]:
    from tests.hubkit import SERVERS

    proc = subprocess.Popen(
        [sys.executable, str(SERVERS), "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import socket

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("HTTP MCP server did not start")


async def test_streamable_http_server_serves_goes_down_and_comes_back() -> None:
    port = free_port()
    server = _start_http_server(port)
    hub = McpHub(
        {
            "remote": ServerSettings(
                type="http",
                url=f"http://127.0.0.1:{port}/mcp",
                headers={"X-Api-Key": "secret-header-value"},
            )
        }
    )
    try:
        await hub.start()
        assert hub.status()[0].state == "up"
        assert (await hub.call("remote", "echo", {"text": "over http"})).text == "over http"
        server.kill()
        server.wait()
        assert await eventually(lambda: hub.status()[0].state == "down", 10)
        server = _start_http_server(port)
        assert await eventually(lambda: hub.status()[0].state == "up", 40)
        assert (await hub.call("remote", "echo", {"text": "again"})).text == "again"
    finally:
        await hub.stop()
        server.kill()
        server.wait()


async def test_a_crashing_server_that_prints_its_key_has_the_key_redacted_from_status() -> None:
    """The server's last stderr line reaches /status (it says why it died), its secret never."""
    script = (
        "import os, sys; print('auth failed for key ' + os.environ['API_KEY'], file=sys.stderr);"
        " sys.exit(1)"
    )
    settings = ServerSettings(
        type="custom", command=sys.executable, args=["-c", script], env={"API_KEY": "sk-live-7f3a9"}
    )
    hub = McpHub({"leaky": settings})
    await hub.start()
    try:
        assert await eventually(lambda: "auth failed" in hub.status()[0].last_error, 10)
        assert "sk-live-7f3a9" not in hub.status()[0].last_error
    finally:
        await hub.stop()
