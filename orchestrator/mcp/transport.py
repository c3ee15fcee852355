"""Open the transport a server's config names: a stdio subprocess or streamable HTTP.

Transports only move messages; the hub speaks the protocol over what this yields.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO, Any, TextIO, cast

from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from orchestrator.config import ServerSettings


@asynccontextmanager
async def open_transport(
    settings: ServerSettings, errlog: IO[str], auth: Any = None
) -> AsyncIterator[tuple[Any, Any]]:
    """Yield (read, write) streams; the subprocess or HTTP session ends when the block exits.
    `auth`: an httpx2 auth (the SDK's OAuth provider) for HTTP servers behind OAuth."""
    if settings.type == "http":
        from mcp.shared._httpx_utils import create_mcp_http_client

        async with (
            create_mcp_http_client(headers=dict(settings.headers), auth=auth) as http,
            streamable_http_client(str(settings.url), http_client=http) as streams,
        ):
            yield streams[0], streams[1]
        return
    command, args = settings.launch_command()
    params = StdioServerParameters(
        command=command, args=args, env=dict(settings.env) or None, cwd=settings.cwd
    )
    async with stdio_client(params, errlog=cast(TextIO, errlog)) as (read, write):
        yield read, write
