"""Helpers for hub tests: server settings for our misbehaving servers, process inspection."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from orchestrator.config import ServerSettings
from tests.conftest import REPO

SERVERS = Path(__file__).resolve().parent / "servers" / "misbehaving.py"
NPM_PREFIX = REPO / ".cache" / "npm"
EVERYTHING = NPM_PREFIX / "node_modules" / "@modelcontextprotocol" / "server-everything"


def misbehaving(mode: str, **overrides: Any) -> ServerSettings:
    return ServerSettings(
        type="custom", command=sys.executable, args=[str(SERVERS), mode], **overrides
    )


def child_processes(match: str = "") -> list[tuple[int, str, str]]:
    """(pid, state, cmdline) of this process's live children and zombies."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[1] == me and match in cmdline:
            found.append((int(entry.name), fields[0], cmdline))
    return found


def install_server_everything() -> Path | str:
    """@modelcontextprotocol/server-everything's entry point, installed from what is on this
    machine only (`npm install --offline`: the npm cache, never the network); else why not."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm are not installed: @modelcontextprotocol/server-everything cannot run here"
    entry = EVERYTHING / "dist" / "index.js"
    if not entry.exists():
        done = subprocess.run(
            [
                "npm",
                "install",
                "--offline",
                "--prefix",
                str(NPM_PREFIX),
                "--no-audit",
                "--no-fund",
                "@modelcontextprotocol/server-everything",
            ],
            capture_output=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or not entry.exists():
            return (
                "@modelcontextprotocol/server-everything is not in the npm cache (tests never "
                "download): run `npm install --prefix .cache/npm "
                "@modelcontextprotocol/server-everything` once with network access"
            )
    return entry
