"""Tiny MCP servers (mcp 2.x `MCPServer`) that misbehave on purpose, for the hub tests.

python misbehaving.py sleepy     `sleep(seconds)`; a cancelled call writes $MARKER_FILE
python misbehaving.py crashy     `echo(text)`, `crash()` exits the process mid-call
python misbehaving.py changing   `add_tool(name)` adds a tool and sends list_changed
python misbehaving.py start_crash  exits before speaking MCP
python misbehaving.py gate       `arrive(expect, hold)` reports the calls in flight at once
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer


def sleepy() -> MCPServer:
    server = MCPServer("sleepy")

    @server.tool(description="Sleep for a number of seconds, then answer")
    async def sleep(seconds: float) -> str:
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            marker = os.environ.get("MARKER_FILE")
            if marker:
                Path(marker).write_text("cancelled")
            raise
        return f"slept {seconds}"

    @server.tool(description="Answer at once")
    def quick() -> str:
        return "quick"

    return server


def crashy() -> MCPServer:
    server = MCPServer("crashy")

    @server.tool(description="Echo the text back")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Exit the server process mid-call")
    def crash() -> str:
        os._exit(3)

    return server


def changing() -> MCPServer:
    server = MCPServer("changing")

    @server.tool(description="Add a tool with this name and announce the change")
    async def add_tool(name: str, ctx: Context) -> str:
        def added() -> str:
            return f"I am {name}"

        server.add_tool(added, name=name, description=f"A tool added at run time: {name}")
        await ctx.session.send_tool_list_changed()
        return f"added {name}"

    return server


def gate() -> MCPServer:
    """Counts calls in flight on the server side, so a test sees what the client let through."""
    server = MCPServer("gate")
    peaks: dict[int, int] = {}  # arrival number -> most calls in flight while it was
    arrivals = itertools.count(1)
    changed = asyncio.Condition()

    @server.tool(
        description="Wait until `expect` calls are in flight together or `hold` seconds pass; "
        "answer this call's arrival number and the most calls in flight while it was"
    )
    async def arrive(expect: int, hold: float) -> str:
        number = next(arrivals)
        async with changed:
            peaks[number] = 0
            for other in peaks:
                peaks[other] = max(peaks[other], len(peaks))
            changed.notify_all()
            try:
                async with asyncio.timeout(hold):
                    await changed.wait_for(lambda: peaks[number] >= expect)
            except TimeoutError:
                pass
            return f"arrival {number} saw {peaks.pop(number)} in flight"

    return server


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "start_crash":
        sys.stderr.write("fatal: missing API key\n")
        sys.exit(1)
    if mode == "http":
        crashy().run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
        sys.exit(0)
    modes = {"sleepy": sleepy, "crashy": crashy, "changing": changing, "gate": gate}
    modes[mode]().run("stdio")
