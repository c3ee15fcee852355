"""Relative paths in a config name files beside the config or in the project, never the cwd.

`args: ["./custom_servers/clickup_mcp_server.py"]` must start the same server whether the bot
is run from the repository, from `/` by a process manager, or from a test's temp directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from orchestrator.config.models import Config, ServerSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRIPT_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".sh")


def _path_like(value: str) -> bool:
    if Path(value).is_absolute() or value.startswith("-"):
        return False
    return value.startswith(("./", "../")) or value.endswith(SCRIPT_SUFFIXES)


def resolve_path(value: str, bases: Sequence[Path]) -> str:
    """The first `base / value` that exists, absolute; `value` unchanged when none does."""
    if not _path_like(value):
        return value
    for base in bases:
        candidate = (base / value).resolve()
        if candidate.exists():
            return str(candidate)
    return value


def _resolved(server: ServerSettings, bases: Sequence[Path]) -> ServerSettings:
    command = server.command and resolve_path(server.command, bases)
    args = [resolve_path(a, bases) for a in server.args]
    cwd = server.cwd and str((bases[0] / server.cwd).resolve())
    if (command, args, cwd) == (server.command, server.args, server.cwd):
        return server
    return server.model_copy(update={"command": command, "args": args, "cwd": cwd})


def resolve_config_paths(config: Config, file: str) -> Config:
    """Each MCP server's script paths against the config file's folder, then the project."""
    source = Path(file)
    if not source.is_file():
        return config
    bases = [source.resolve().parent, PROJECT_ROOT]
    servers = {name: _resolved(s, bases) for name, s in config.mcp_servers.items()}
    return config.model_copy(update={"mcp_servers": servers})
