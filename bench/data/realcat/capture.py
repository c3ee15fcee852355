"""Start real MCP servers and save what they list: `initialize` (serverInfo, instructions) and
every page of `tools/list`, one JSON file per server under servers/.

    python -m bench.data.realcat.capture --bin /tmp/mcpcap/node_modules/.bin \
        --pybin /tmp/mcpcap/pyenv/bin [NAME ...]

The servers are installed beforehand with their ordinary clients (npm install, pip install; see
PROVENANCE.md); credentials are dummies, since listing tools calls no outside API. A server that
does not start offline is reported and skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

log = logging.getLogger("capture")
HERE = Path(__file__).resolve().parent
SERVERS = HERE / "servers"


@dataclass(frozen=True)
class Server:
    name: str
    package: str  # npm or PyPI name
    registry: str  # "npm" | "pypi"
    command: str  # executable name (under --bin for npm, --pybin for pypi)
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def servers(scratch: Path) -> list[Server]:
    db = scratch / "db.sqlite"
    repo = scratch / "repo"
    return [
        Server(
            "filesystem",
            "@modelcontextprotocol/server-filesystem",
            "npm",
            "mcp-server-filesystem",
            (str(scratch),),
        ),
        Server(
            "memory",
            "@modelcontextprotocol/server-memory",
            "npm",
            "mcp-server-memory",
            env={"MEMORY_FILE_PATH": str(scratch / "memory.json")},
        ),
        Server(
            "everything",
            "@modelcontextprotocol/server-everything",
            "npm",
            "mcp-server-everything",
            ("stdio",),
        ),
        Server(
            "sequential-thinking",
            "@modelcontextprotocol/server-sequential-thinking",
            "npm",
            "mcp-server-sequential-thinking",
        ),
        Server(
            "xero",
            "@xeroapi/xero-mcp-server",
            "npm",
            "xero-mcp-server",
            env={"XERO_CLIENT_ID": "dummy", "XERO_CLIENT_SECRET": "dummy"},
        ),
        Server(
            "github",
            "@modelcontextprotocol/server-github",
            "npm",
            "mcp-server-github",
            env={"GITHUB_PERSONAL_ACCESS_TOKEN": "dummy"},
        ),
        Server(
            "notion",
            "@notionhq/notion-mcp-server",
            "npm",
            "notion-mcp-server",
            env={"NOTION_TOKEN": "dummy"},
        ),
        Server(
            "slack",
            "@modelcontextprotocol/server-slack",
            "npm",
            "mcp-server-slack",
            env={"SLACK_BOT_TOKEN": "xoxb-dummy", "SLACK_TEAM_ID": "T0DUMMY"},
        ),
        Server(
            "postgres",
            "@modelcontextprotocol/server-postgres",
            "npm",
            "mcp-server-postgres",
            ("postgresql://localhost/dummy",),
        ),
        Server(
            "brave-search",
            "@modelcontextprotocol/server-brave-search",
            "npm",
            "mcp-server-brave-search",
            env={"BRAVE_API_KEY": "dummy"},
        ),
        Server(
            "gitlab",
            "@modelcontextprotocol/server-gitlab",
            "npm",
            "mcp-server-gitlab",
            env={"GITLAB_PERSONAL_ACCESS_TOKEN": "dummy"},
        ),
        Server(
            "google-maps",
            "@modelcontextprotocol/server-google-maps",
            "npm",
            "mcp-server-google-maps",
            env={"GOOGLE_MAPS_API_KEY": "dummy"},
        ),
        Server(
            "redis",
            "@modelcontextprotocol/server-redis",
            "npm",
            "mcp-server-redis",
            ("redis://127.0.0.1:6379",),
        ),
        Server("playwright", "@playwright/mcp", "npm", "playwright-mcp", ("--headless",)),
        Server("time", "mcp-server-time", "pypi", "mcp-server-time"),
        Server("fetch", "mcp-server-fetch", "pypi", "mcp-server-fetch"),
        Server("git", "mcp-server-git", "pypi", "mcp-server-git", ("--repository", str(repo))),
        Server("sqlite", "mcp-server-sqlite", "pypi", "mcp-server-sqlite", ("--db-path", str(db))),
    ]


async def capture(server: Server, executable: Path, version: str) -> dict[str, Any]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(server.env)
    params = StdioServerParameters(command=str(executable), args=list(server.args), env=env)
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            tools: list[dict[str, Any]] = []
            cursor: str | None = None
            while True:
                page = (
                    await session.list_tools(cursor=cursor)
                    if cursor
                    else (await session.list_tools())
                )
                tools += [
                    t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in page.tools
                ]
                cursor = page.next_cursor
                if not cursor:
                    break
    info = init.server_info
    return {
        "server": server.name,
        "package": server.package,
        "registry": server.registry,
        "version": version,
        "command": [server.command, *server.args],
        "initialize": {
            "protocol_version": init.protocol_version,
            "server_info": info.model_dump(mode="json", by_alias=True, exclude_none=True),
            "instructions": init.instructions,
        },
        "tools": tools,
    }


def package_version(server: Server, bin_dir: Path, py_bin: Path) -> str:
    if server.registry == "npm":
        manifest = bin_dir.parent / server.package / "package.json"
        return str(json.loads(manifest.read_text())["version"])
    from importlib.metadata import PathDistribution

    site = next((py_bin.parent / "lib").glob("python*/site-packages"))
    dist = next(site.glob(f"{server.package.replace('-', '_')}-*.dist-info"))
    return str(PathDistribution(dist).version)


async def main_async(ns: argparse.Namespace) -> int:
    SERVERS.mkdir(parents=True, exist_ok=True)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        (scratch / "repo").mkdir()
        os.system(f"git init -q {scratch / 'repo'}")  # noqa: S605 - fixed path, for mcp-server-git
        for server in servers(scratch):
            if ns.names and server.name not in ns.names:
                continue
            base = Path(ns.bin if server.registry == "npm" else ns.pybin)
            try:
                version = package_version(server, base, Path(ns.pybin))
                data = await asyncio.wait_for(capture(server, base / server.command, version), 60)
            except Exception as exc:  # noqa: BLE001 - report and skip the server
                failed += 1
                log.warning("capture_failed server=%s error=%r", server.name, exc)
                continue
            path = SERVERS / f"{server.name}.json"
            path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
            log.info("captured server=%s tools=%d", server.name, len(data["tools"]))
    return 1 if failed and ns.strict else 0


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="node_modules/.bin of the npm installs")
    parser.add_argument("--pybin", required=True, help="bin/ of the venv with the PyPI servers")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("names", nargs="*")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
