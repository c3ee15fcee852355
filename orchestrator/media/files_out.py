"""A tool result's image and embedded-resource content as files to post in the chat.

MCP content blocks: `image` (base64 `data`, `mime_type`), `resource` (an embedded resource:
`blob` base64 or `text`, with its `uri` and `mime_type`). The model is told a file was sent
(it never sees the bytes); the adapter posts it as a photo or a document.
"""

from __future__ import annotations

import base64
import binascii
import logging
import posixpath
from typing import Any
from urllib.parse import urlparse

from orchestrator.messages import OutFile

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50_000_000  # Telegram's limit for a bot's document; Discord's is lower
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/csv": ".csv",
    "application/json": ".json",
    "text/markdown": ".md",
    "text/plain": ".txt",
}


def block_file(block: Any, index: int) -> OutFile | None:
    """The file in one MCP content block, or None (text, links, or undecodable data)."""
    kind = getattr(block, "type", "")
    if kind == "image":
        mime = str(getattr(block, "mime_type", "") or "image/png")
        return _decoded(f"image-{index}{EXTENSIONS.get(mime, '')}", mime, block.data)
    if kind != "resource":
        return None
    resource = getattr(block, "resource", None)
    if resource is None:
        return None
    mime = str(getattr(resource, "mime_type", "") or "application/octet-stream")
    name = _name(str(getattr(resource, "uri", "") or ""), mime, index)
    blob = getattr(resource, "blob", None)
    if blob is not None:
        return _decoded(name, mime, blob)
    text = getattr(resource, "text", None)
    if text is None:
        return None
    return OutFile(name, mime, str(text).encode())


def block_note(file: OutFile) -> str:
    """What the model reads in place of the file."""
    return f"[file sent to the chat: {file.name} ({file.mime}, {len(file.data):,} bytes)]"


def _decoded(name: str, mime: str, data: Any) -> OutFile | None:
    try:
        raw = base64.b64decode(str(data), validate=True)
    except (binascii.Error, ValueError):
        log.warning("tool_file_undecodable name=%s", name)
        return None
    if len(raw) > MAX_FILE_BYTES:
        log.warning("tool_file_too_large name=%s bytes=%d", name, len(raw))
        return None
    return OutFile(name, mime, raw)


def _name(uri: str, mime: str, index: int) -> str:
    parsed = urlparse(uri)
    base = posixpath.basename(parsed.path) or parsed.netloc
    if not base or len(base) > 100:
        base = f"file-{index}"
    if not posixpath.splitext(base)[1]:
        base += EXTENSIONS.get(mime, "")
    return base
