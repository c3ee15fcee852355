"""A test MCP server whose tools answer with files (issue 31: files out).

python file_tools.py
  chart()    a text line and an `image` content block (a small PNG)
  export()   a text line and an embedded `resource` (a CSV blob)
"""

from __future__ import annotations

import base64
import struct
import zlib

from mcp.server.mcpserver import MCPServer
from mcp_types import (
    BlobResourceContents,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    TextContent,
)

CSV = b"task,owner\nwrite report,ann\nship release,bob\n"


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG of red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def build() -> MCPServer:
    server = MCPServer("files")

    @server.tool(description="Draw this week's burndown chart as an image")
    def chart() -> list[ContentBlock]:
        data = base64.b64encode(tiny_png()).decode()
        return [
            TextContent(type="text", text="Burndown chart for this week"),
            ImageContent(type="image", data=data, mime_type="image/png"),
        ]

    @server.tool(description="Export the open tasks as a CSV file")
    def export() -> list[ContentBlock]:
        blob = BlobResourceContents(
            uri="file:///exports/tasks.csv",
            mime_type="text/csv",
            blob=base64.b64encode(CSV).decode(),
        )
        return [
            TextContent(type="text", text="Exported 2 tasks"),
            EmbeddedResource(type="resource", resource=blob),
        ]

    return server


if __name__ == "__main__":
    build().run("stdio")
