"""Hub figures: start-up time, kill -9 to recovery, hung calls. Writes bench/results/hub.md."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import time
from pathlib import Path

from bench.machine import machine_lines
from orchestrator.config import ServerSettings, load_config
from orchestrator.errors import ServerDown
from orchestrator.mcp.hub import McpHub

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "servers" / "misbehaving.py"
RESULTS = ROOT / "bench" / "results" / "hub.md"
HANG_LIMIT = 10.0  # a call that takes longer than this without raising counts as hung


def server() -> ServerSettings:
    return ServerSettings(
        type="custom", command=sys.executable, args=[str(SERVER), "crashy"], timeout_seconds=5
    )


def child_pid(match: str) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            except OSError:
                continue
            if match in cmd and ppid == str(os.getpid()):
                return int(entry.name)
    raise LookupError(match)


async def startup(servers: dict[str, ServerSettings]) -> float:
    hub = McpHub(servers)
    started = time.monotonic()
    await hub.start()
    elapsed = time.monotonic() - started
    await hub.stop()
    return elapsed


async def kill_and_recover(rounds: int) -> tuple[list[float], int, int]:
    hub = McpHub({"victim": server()})
    await hub.start()
    recoveries, hung, calls = [], 0, 0
    try:
        for _ in range(rounds):
            os.kill(child_pid("misbehaving.py crashy"), signal.SIGKILL)
            killed = time.monotonic()
            while True:
                calls += 1
                try:
                    await asyncio.wait_for(hub.call("victim", "echo", {"text": "x"}), HANG_LIMIT)
                    recoveries.append(time.monotonic() - killed)
                    break
                except ServerDown:
                    await asyncio.sleep(0.02)
                except TimeoutError:
                    hung += 1
    finally:
        await hub.stop()
    return recoveries, hung, calls


async def main() -> None:
    default = load_config(ROOT / "config" / "orchestrator.yaml", env={})
    rows = [
        (
            "embedded default config (1 server: mcp-server-time)",
            await startup(dict(default.mcp_servers)),
        )
    ]
    rows.append(("1 test server", await startup({"s0": server()})))
    rows.append(("8 test servers at once", await startup({f"s{i}": server() for i in range(8)})))
    recoveries, hung, calls = await kill_and_recover(10)
    lines = [
        "# MCP hub",
        "",
        *machine_lines(("mcp", "mcp-server-time")),
        "",
        f"Machine: {os.cpu_count()} CPUs. Python servers from "
        "tests/servers/misbehaving.py; times are wall clock.",
        "",
        "| start-up | seconds |",
        "|---|---|",
    ]
    lines += [f"| {name} | {secs:.2f} |" for name, secs in rows]
    lines += [
        "",
        "| kill -9 to first successful call (10 rounds) | seconds |",
        "|---|---|",
        f"| median | {statistics.median(recoveries):.2f} |",
        f"| max | {max(recoveries):.2f} |",
        "",
        f"Calls made while the server was down or restarting: {calls}; "
        f"calls that hung (no answer or error within {HANG_LIMIT:g} s): **{hung}**.",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
