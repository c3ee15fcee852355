"""Run one of our MCP servers over stdio (the default) or streamable HTTP, logging to stderr.

Why here: every server starts the same way, and stdout belongs to the stdio transport, so logs
must go to stderr, as key=value lines with the server's secrets masked.

    python -m custom_servers.<name> [--transport stdio|streamable-http] [--host H] [--port P]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterable

from mcp.server.mcpserver import MCPServer


class _MaskSecrets(logging.Filter):
    """Masks secret values in every record, whatever a library chose to log."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


def configure_logging(secret_envs: Iterable[str]) -> None:
    """One stderr handler; httpx stays quiet because its lines carry full URLs (and keys)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(_MaskSecrets(os.environ.get(name, "") for name in secret_envs))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    for noisy in ("httpx", "httpcore", "mcp"):
        logging.getLogger(noisy).setLevel("WARNING")


def serve(
    create_server: Callable[[], MCPServer],
    secret_envs: Iterable[str],
    argv: list[str] | None = None,
) -> None:
    """Parse the command line and run the server until its transport closes."""
    parser = argparse.ArgumentParser(description=(create_server.__doc__ or "").strip() or None)
    parser.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio")
    parser.add_argument("--host", default=os.environ.get("MCP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("MCP_PORT", "8000")))
    args = parser.parse_args(argv)
    configure_logging(secret_envs)
    server = create_server()
    if args.transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=args.host, port=args.port)
