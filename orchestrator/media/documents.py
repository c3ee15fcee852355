"""A document's text: plain text, Markdown, CSV and JSON decoded, PDF through pypdf.

The adapter downloads the file (after checking its announced size) and calls `read_document`;
whatever cannot be read raises FileRefused with the reply the person sees.
"""

from __future__ import annotations

import io
import logging
import posixpath

from orchestrator.media.errors import FileRefused

log = logging.getLogger(__name__)

TEXT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".log": "text/plain",
}
PDF = "application/pdf"
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}  # fmt: skip
SUPPORTED = "text, Markdown, CSV, JSON or PDF"


def document_type(name: str, mime: str = "") -> str | None:
    """The type we read a file as ("text/plain", ..., PDF), or None when we do not read it."""
    ext = posixpath.splitext(name.lower())[1]
    if ext == ".pdf" or mime == PDF:
        return PDF
    if ext in TEXT_TYPES:
        return TEXT_TYPES[ext]
    if mime in set(TEXT_TYPES.values()):
        return mime
    return None


def image_type(name: str, mime: str = "") -> str | None:
    if mime in IMAGE_TYPES.values():
        return mime
    return IMAGE_TYPES.get(posixpath.splitext(name.lower())[1])


def too_large_text(name: str, size: int, limit: int) -> str:
    return (
        f"{name} is too large for me to read ({size / 1e6:.1f} MB; the limit is "
        f"{limit / 1e6:.1f} MB)."
    )


def check_size(name: str, size: int | None, limit: int) -> None:
    """Refuse before downloading when the platform announces a size over the limit."""
    if size is not None and size > limit:
        raise FileRefused(too_large_text(name, size, limit))


def read_document(name: str, mime: str, data: bytes, limit: int) -> str:
    """The text of a document; FileRefused (with the reply) when it cannot be read."""
    check_size(name, len(data), limit)
    kind = document_type(name, mime)
    if kind is None:
        raise FileRefused(f"I can't read {name}: I read {SUPPORTED} files.")
    if kind == PDF:
        return _pdf_text(name, data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(f"I can't read {name}: it is not UTF-8 text.") from None
    if not text.strip():
        raise FileRefused(f"{name} is empty.")
    return text


def _pdf_text(name: str, data: bytes) -> str:
    from pypdf import PdfReader  # imported when a PDF arrives: most requests have none
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise FileRefused(f"I can't read {name}: it is password-protected.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except FileRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        log.info("pdf_unreadable name=%s error=%s", name, type(exc).__name__)
        raise FileRefused(f"I can't read {name}: the PDF looks damaged.") from None
    text = "\n\n".join(f"[page {i}]\n{t.strip()}" for i, t in enumerate(pages, 1) if t.strip())
    if not text:
        raise FileRefused(f"{name} has no text I can read (a scan? I don't do OCR).")
    return text
